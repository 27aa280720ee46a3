//! `broker server.properties [--override key=value]...`

use std::process::ExitCode;

use anyhow::Context;
use broker::config::{parse_override, parse_properties, BrokerConfig};

const USAGE: &str = "USAGE: broker server.properties [--override property=value]*";

fn load(args: &[String]) -> anyhow::Result<BrokerConfig> {
    let (file, rest) = match args.split_first() {
        Some((f, rest)) if f != "--help" && f != "-h" => (f, rest),
        _ => anyhow::bail!("{USAGE}"),
    };
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
    let mut pairs = parse_properties(&text);
    let mut iter = rest.iter();
    let mut strays = Vec::new();
    while let Some(arg) = iter.next() {
        if arg == "--override" {
            let kv = iter
                .next()
                .with_context(|| format!("--override needs key=value\n{USAGE}"))?;
            pairs.push(parse_override(kv)?);
        } else if let Some(kv) = arg.strip_prefix("--override=") {
            pairs.push(parse_override(kv)?);
        } else {
            strays.push(arg.clone());
        }
    }
    if !strays.is_empty() {
        anyhow::bail!(
            "Found non argument parameters: {}\n{USAGE}",
            strays.join(",")
        );
    }
    let (config, report) =
        BrokerConfig::from_pairs(&pairs).with_context(|| format!("reading {file}"))?;
    for key in report.unknown_keys {
        tracing::warn!("The configuration '{key}' was supplied but isn't a known config.");
    }
    for (key, value, why) in report.not_acted_on {
        tracing::warn!(
            "The configuration '{key}' = '{value}' is accepted but not acted on by this broker: {why}."
        );
    }
    Ok(config)
}

async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot listen for SIGTERM: {e}");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

fn main() -> ExitCode {
    common::logging::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match load(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e:#}");
            return ExitCode::from(1);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let id = config.broker_id;
    match runtime.block_on(broker::server::run(config, shutdown_signal())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Kafka logs the cause under this line, then `kafka.Kafka` exits with status 1.
            tracing::error!(
                "[KafkaServer id={id}] Fatal error during KafkaServer startup. Prepare to shutdown\n{e:#}"
            );
            tracing::info!("[KafkaServer id={id}] shut down completed");
            tracing::error!("Exiting Kafka due to fatal exception during startup.");
            ExitCode::from(1)
        }
    }
}
