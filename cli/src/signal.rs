//! The shutdown signals of the tools. Kafka's tools stop through JVM shutdown hooks (the console
//! producer's closes the producer, which flushes; the console consumer's wakes the consumer up),
//! and the JVM runs those hooks on SIGINT, SIGTERM and SIGHUP.

/// Resolves once the process receives SIGINT (Ctrl-C), SIGTERM or SIGHUP, the signals on which
/// the JVM runs Kafka's shutdown hooks. Off Unix, only Ctrl-C. If the SIGTERM or SIGHUP handler
/// cannot be installed, Ctrl-C alone still ends the wait.
///
/// Must be awaited inside a tokio runtime with its I/O driver enabled.
pub async fn wait_for_shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            (Ok(mut term), Ok(mut hup)) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                    _ = hup.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
