//! `kafka-consumer-perf-test`: see [`kafka_perf_tools::consumer_perf`]. Exit codes: 0 after a
//! run (also one that timed out before `--messages`, as Kafka's tool), 1 on a usage error,
//! `--help` or a failure; `--version` 0.

use kafka_perf_tools::consumer_perf::{self, Early};
use rand::Rng;

fn main() {
    cli::tool_log::init_tool_logging();
    let args = kafka_perf_tools::args();
    let group = format!("perf-consumer-{}", rand::thread_rng().gen_range(0..100_000));
    let parser = consumer_perf::parser(&group);
    let code = match consumer_perf::options(&parser, &args, &mut std::io::stdout()) {
        Ok(opts) => cli::admin::run_async(consumer_perf::run(opts)).unwrap_or(1),
        Err(Early::Abort(abort)) => abort.exit(&parser),
        Err(Early::Exception(e)) => {
            eprintln!("{}", e.message);
            e.print();
            1
        }
    };
    std::process::exit(code);
}
