//! `kafka-e2e-latency`: see [`kafka_perf_tools::e2e_latency`]. Exit code 0 after the run, 1 on
//! a wrong argument or any failure.

use kafka_perf_tools::e2e_latency;

fn main() {
    cli::tool_log::init_tool_logging();
    let args = kafka_perf_tools::args();
    let code = match e2e_latency::parse_args(&args) {
        Ok(a) => match cli::admin::run_async(e2e_latency::execute(&a)) {
            Some(Ok(())) => 0,
            Some(Err(f)) => f.report(),
            None => 1,
        },
        Err(f) => f.report(),
    };
    std::process::exit(code);
}
