//! `kafka-verifiable-producer`: see the library's documentation. Exit codes: 0 after
//! `tool_data` (and for the help printed with no arguments), 1 on a usage error, `-h`, or a
//! producer configuration Kafka's `KafkaProducer` would refuse.

use std::io::Write;

use cli::argparse::Stop;
use kafka_verifiable_producer::options::{self, Early};
use kafka_verifiable_producer::run;

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
            // The sender task runs beside the send loop, as the Java client's I/O thread does.
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
        Err(Early::Parse(Stop::Help(text))) => {
            let _ = std::io::stdout().write_all(text.as_bytes());
            1
        }
        Err(Early::Parse(Stop::Version)) => 0,
        Err(Early::Parse(Stop::Error(text))) => {
            let _ = std::io::stderr().write_all(text.as_bytes());
            1
        }
    };
    std::process::exit(code);
}
