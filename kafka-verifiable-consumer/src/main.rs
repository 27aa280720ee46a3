//! `kafka-verifiable-consumer`: see the library's documentation. Exit codes: 0 after
//! `shutdown_complete` (and for the help printed with no arguments), 1 on a usage error, `-h`,
//! or a consumer configuration Kafka's `KafkaConsumer` would refuse.

use std::io::Write;

use cli::argparse::Stop;
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
        Ok(opts) => match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(runtime) => match runtime.block_on(run::run(opts)) {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("Exception in thread \"main\" {}: {}", e.class, e.message);
                    1
                }
            },
            Err(e) => {
                eprintln!("cannot start the async runtime: {e}");
                1
            }
        },
        // `-h` prints the help, then argparse4j's HelpScreenException reaches `System.exit(1)`.
        Err(Stop::Help(text)) => {
            let _ = std::io::stdout().write_all(text.as_bytes());
            1
        }
        Err(Stop::Version) => 0,
        Err(Stop::Error(text)) => {
            let _ = std::io::stderr().write_all(text.as_bytes());
            1
        }
    };
    std::process::exit(code);
}
