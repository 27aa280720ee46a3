//! `kafka-producer-perf-test`: see [`kafka_perf_tools::producer_perf`]. Exit codes: 0 when every
//! record was acknowledged (and for the help printed with no arguments), 1 on a usage error,
//! `-h`, a failed record or a producer that could not send.

use std::io::Write;

use cli::argparse::Stop;
use kafka_perf_tools::producer_perf::{self, Early};

fn main() {
    cli::tool_log::init_tool_logging();
    let args = kafka_perf_tools::args();
    let code = match producer_perf::options(&args, &mut std::io::stdout()) {
        Ok(opts) => cli::admin::run_threaded(producer_perf::run(opts)).unwrap_or(1),
        Err(Early::Parse(Stop::Help(text))) => {
            let _ = std::io::stdout().write_all(text.as_bytes());
            // `parser.printHelp(); Exit.exit(0)` with no arguments; `-h` ends in handleError's
            // `Exit.exit(1)`.
            i32::from(!args.is_empty())
        }
        Err(Early::Parse(Stop::Version)) => {
            println!("{}", cli::KAFKA_VERSION);
            0
        }
        Err(Early::Parse(Stop::Error(_))) if args.is_empty() => {
            // No arguments: Kafka prints the help, not the missing-argument error.
            let help = producer_perf::parser().format_help(&[]);
            let _ = std::io::stdout().write_all(help.as_bytes());
            0
        }
        Err(Early::Parse(Stop::Error(text))) | Err(Early::Invalid(text)) => {
            let _ = std::io::stderr().write_all(text.as_bytes());
            1
        }
        Err(Early::Exception(e)) => e.print_uncaught(),
    };
    std::process::exit(code);
}
