//! `kafka-reassign-partitions`: moves partitions between brokers on a running cluster, with
//! Kafka 3.9's options, JSON files, output and messages (`ReassignPartitionsCommand`, KIP-455):
//! `--generate` proposes an assignment of `--topics-to-move-json-file`'s topics over
//! `--broker-list`, `--execute` starts the one in `--reassignment-json-file`, `--verify` reports
//! its progress (and clears replication throttles once it is done), `--cancel` stops it and
//! `--list` shows every reassignment in progress. Exit code 0 on success, 1 on any failure.

mod command;
mod json;
mod options;
mod placement;

use std::io::Write;

use cli::admin::{admin_api_timeout, load_command_config, run_async};
use client::Admin;

use crate::command::Failure;
use crate::options::ReassignOptions;

/// The admin client's `client.id` unless the command config sets one (Kafka's
/// `props.putIfAbsent(CLIENT_ID_CONFIG, "reassign-partitions-tool")`).
const CLIENT_ID: &str = "reassign-partitions-tool";

fn main() {
    // Kafka's WARN/ERROR log lines; the client library's own diagnostics only through RUST_LOG.
    cli::tool_log::init_tool_logging();
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let code = match options::parse_args(&args) {
        Err(abort) => abort.exit(&options::parser()),
        Ok(opts) => run(&opts),
    };
    std::process::exit(code);
}

/// Runs the action; a failure is printed on stdout as `ReassignPartitionsCommand.main` prints
/// it, and the exit code is 1.
fn run(opts: &ReassignOptions) -> i32 {
    let result = match load_command_config(opts.command_config.as_deref()) {
        Err(e) => Err(Failure::exception(e.java_class(), e.java_message())),
        Ok(props) => match admin_api_timeout(&props) {
            Err(message) => Err(Failure::exception(cli::admin::CONFIG_EXCEPTION, message)),
            Ok(timeout) => {
                let client_id = props.get("client.id").unwrap_or(CLIENT_ID).to_string();
                let Some(result) = run_async(async {
                    let admin =
                        Admin::connect_with_timeout(&opts.bootstrap_server, &client_id, timeout)
                            .await?;
                    let mut out = std::io::BufWriter::new(std::io::stdout());
                    let result = command::run(&admin, opts, &mut out).await;
                    // stdout going away (e.g. `| head`) is not the command's failure.
                    let _ = out.flush();
                    result
                }) else {
                    return 1;
                };
                result
            }
        },
    };
    match result {
        Ok(()) => 0,
        Err(failure) => {
            let mut stdout = std::io::stdout();
            let _ = stdout.write_all(failure.render().as_bytes());
            let _ = stdout.flush();
            1
        }
    }
}
