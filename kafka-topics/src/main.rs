//! `kafka-topics`: create, list, describe, alter and delete topics, with Kafka 3.9's options,
//! output and messages (`org.apache.kafka.tools.TopicCommand`).

mod admin_port;
mod client_admin;
mod command;
mod create_args;
mod describe;
mod errors;
mod options;
mod topic_filter;

use std::io::Write;

use cli::admin::{admin_api_timeout, admin_client_id, load_command_config, run_async};
use cli::tool_log;
use client::Admin;

use crate::errors::{CommandError, LOGGER};
use crate::options::{OptionsFailure, TopicOptions};

fn main() {
    // Kafka's WARN/ERROR log lines; the client library's own diagnostics only through RUST_LOG.
    cli::tool_log::init_tool_logging();
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let code = match options::parse_args(&args) {
        Err(OptionsFailure::Abort(abort)) => abort.exit(&options::parser()),
        Err(OptionsFailure::Command(message)) => report(&CommandError {
            exception: "joptsimple.OptionArgumentConversionException".into(),
            message,
        }),
        Ok(opts) => run(&opts),
    };
    std::process::exit(code);
}

/// Prints the failure as Kafka's `printException` does; returns the exit code.
fn report(e: &CommandError) -> i32 {
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "{}", e.stdout_line());
    let _ = stdout.flush();
    tool_log::error(&e.log_message(), LOGGER);
    1
}

fn run(opts: &TopicOptions) -> i32 {
    for notice in &opts.notices {
        println!("{notice}");
    }
    let admin_props = match load_command_config(opts.command_config.as_deref()) {
        Ok(p) => p,
        // Thrown by `Utils.loadProps` inside `execute`'s try: `printException` reports it.
        Err(e) => {
            return report(&CommandError {
                exception: e.java_class().into(),
                message: e.java_message(),
            })
        }
    };
    // `Admin.create` inside `execute`'s try: `printException` reports its ConfigException.
    let timeout = match admin_api_timeout(&admin_props) {
        Ok(t) => t,
        Err(message) => {
            return report(&CommandError {
                exception: cli::admin::CONFIG_EXCEPTION.into(),
                message,
            })
        }
    };
    let Some(result) = run_async(async {
        let client_id = admin_client_id(&admin_props);
        let admin = Admin::connect_with_timeout(&opts.bootstrap_server, client_id, timeout).await?;
        let mut out = std::io::BufWriter::new(std::io::stdout());
        let result = command::run(&admin, opts, &mut out).await;
        // stdout going away (e.g. `| head`) is not the command's failure.
        let _ = out.flush();
        result
    }) else {
        return 1;
    };
    match result {
        Ok(()) => 0,
        Err(e) => report(&e),
    }
}
