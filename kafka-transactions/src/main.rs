//! `kafka-transactions`: lists and describes transactions, describes a partition's active
//! producers, aborts a hanging transaction and finds hanging transactions, with Kafka 3.9's
//! arguments, output and messages (`org.apache.kafka.tools.TransactionsCommand`): `list
//! [--duration-filter]`, `describe --transactional-id`, `describe-producers --topic --partition
//! [--broker-id]`, `abort --topic --partition (--start-offset | --producer-id --producer-epoch
//! --coordinator-epoch)`, `find-hanging (--topic [--partition] | --broker-id)
//! [--max-transaction-timeout]`. Tables are tab-separated columns padded to their widest value.
//! Exit code 0 on success; 1 on a usage error, `-h` (as argparse4j's help screen ends in Kafka's
//! `Exit.exit(1)`) and any failure; `-v` prints the version and exits 0.

mod command;

use std::io::Write;

use cli::admin::{admin_api_timeout, admin_client_id, load_command_config, run_async};
use client::Admin;

fn main() {
    // Kafka's WARN/ERROR log lines; the client library's own diagnostics only through RUST_LOG.
    cli::tool_log::init_tool_logging();
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    std::process::exit(run(&args));
}

fn fail(message: &str) -> i32 {
    let _ = writeln!(std::io::stderr(), "{message}");
    1
}

fn run(args: &[String]) -> i32 {
    let ns = match command::parser().parse(args) {
        Ok(ns) => ns,
        Err(stop) => return stop.report(),
    };
    let props = match load_command_config(ns.get("command_config")) {
        Ok(p) => p,
        Err(e) => {
            return fail(&format!(
                "Failed to load admin client properties: {}. Enable debug logging for additional detail.",
                e.java_message()
            ))
        }
    };
    // `Admin.create` throws a ConfigException that `main` does not catch.
    let timeout = match admin_api_timeout(&props) {
        Ok(t) => t,
        Err(message) => {
            return fail(&format!(
                "Exception in thread \"main\" {}: {message}",
                cli::admin::CONFIG_EXCEPTION
            ))
        }
    };
    let bootstrap = ns.get("bootstrap_server").unwrap_or_default().to_string();
    let Some(result) = run_async(async {
        let admin = Admin::connect_with_timeout(&bootstrap, admin_client_id(&props), timeout)
            .await
            .map_err(|e| e.to_string())?;
        let mut out = std::io::BufWriter::new(std::io::stdout());
        let result = command::execute(&admin, &ns, common::time::now_ms(), &mut out).await;
        // stdout going away (e.g. `| head`) is not the command's failure.
        let _ = out.flush();
        result
    }) else {
        return 1;
    };
    match result {
        Ok(()) => 0,
        Err(message) => fail(&message),
    }
}

#[cfg(test)]
mod tests;
