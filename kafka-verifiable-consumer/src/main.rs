//! `kafka-verifiable-consumer`: see the library's documentation. Exit codes: 0 after
//! `shutdown_complete` (and for the help printed with no arguments), 1 on a usage error, `-h`,
//! or a consumer configuration Kafka's `KafkaConsumer` would refuse.

use std::io::Write;

use kafka_verifiable_consumer::{options, run};

fn main() {
    cli::tool_log::init_tool_logging();
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if args.is_empty() {
        // `parser.printHelp(); System.exit(0)`.
        let help = options::parser().format_help(&[]);
        let _ = std::io::stdout().write_all(help.as_bytes());
        std::process::exit(0);
    }
    let code = match options::options(&args) {
        // Two workers: the client's I/O runs beside the tool's loop, as the Java client's
        // network thread does.
        Ok(opts) => match cli::admin::run_threaded(run::run(opts)) {
            Some(Ok(code)) => code,
            Some(Err(e)) => {
                eprintln!("{}", e.uncaught());
                1
            }
            None => 1,
        },
        Err(stop) => stop.report(),
    };
    std::process::exit(code);
}
