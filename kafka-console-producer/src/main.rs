//! `kafka-console-producer`: each line of stdin becomes a record (Kafka 3.9's
//! `ConsoleProducer` with its `LineMessageReader`). At the end of input it waits until every
//! record is acknowledged or has failed and exits 0 (failures are logged, as Kafka's
//! `ErrorLoggingCallback` does, and the run goes on); `--sync` stops at the first failure with
//! exit 1, as does a line the reader cannot parse.

mod client_sink;
mod line_reader;
mod line_splitter;
mod options;
mod send_loop;
mod stdin_lines;

use std::io::Write;
use std::sync::Arc;

use cli::exception::exception_class;
use client::producer::{Producer, ProducerConfig};
use tokio::sync::mpsc;

use crate::line_reader::LineReaderConfig;
use crate::send_loop::{Input, Report};

fn main() {
    // Kafka's WARN/ERROR log lines (e.g. NetworkClient's on an auto-created topic); the client
    // library's own diagnostics only through RUST_LOG.
    cli::tool_log::init_tool_logging();
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let opts = match options::parse_args(&args) {
        Ok(o) => o,
        Err(abort) => abort.exit(&options::parser()),
    };
    std::process::exit(run(opts));
}

fn fail(text: &str) -> i32 {
    let _ = writeln!(std::io::stderr(), "{text}");
    1
}

fn run(opts: options::ProducerOptions) -> i32 {
    let reader = match LineReaderConfig::from_properties(&opts.reader_props) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let config = match ProducerConfig::from_properties(&opts.producer_props.to_pairs()) {
        Ok(c) => c,
        Err(e) => return fail(&format!("{}: {e}", exception_class(&e))),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(async move {
        let producer = match Producer::new(config).await {
            Ok(p) => p,
            Err(e) => return fail(&format!("{}: {e}", exception_class(&e))),
        };
        let (tx, mut rx) = mpsc::channel(1024);
        stdin_lines::spawn_stdin_reader(tx.clone(), stdin_lines::interactive());
        // A signal stops the reading and delivers what was read: Kafka's shutdown hook closes
        // the producer, which flushes.
        tokio::spawn(async move {
            cli::signal::wait_for_shutdown_signal().await;
            let _ = tx.send(Input::End).await;
        });
        let report: Report = Arc::new(|text: &str| {
            let _ = std::io::stderr().write_all(text.as_bytes());
        });
        let code =
            send_loop::produce(&producer, &opts.topic, &reader, opts.sync, &mut rx, report).await;
        let close = producer.close().await;
        let _ = std::io::stdout().flush();
        match close {
            Err(e) if code == 0 => fail(&format!("{}: {e}", exception_class(&e))),
            _ => code,
        }
    })
}
