//! `kafka-consumer-groups`: list, describe, reset offsets of and delete consumer groups, with
//! Kafka 3.9's options, output and messages
//! (`org.apache.kafka.tools.consumer.group.ConsumerGroupCommand`).

mod command;
mod options;

use kafka_consumer_groups::{format, reset};

use std::io::Write;
use std::time::Duration;

use cli::admin::{admin_client_id, load_command_config, run_async};
use client::Admin;

use crate::command::CommandError;
use crate::options::OptionsFailure;

fn main() {
    // Kafka's WARN/ERROR log lines; the client library's own diagnostics only through RUST_LOG.
    cli::tool_log::init_tool_logging();
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut warnings = Vec::new();
    let parsed = options::parse_args(&args, &mut warnings);
    for w in &warnings {
        eprintln!("{w}");
    }
    let code = match parsed {
        Err(OptionsFailure::Abort(abort)) => abort.exit(&options::parser()),
        Err(OptionsFailure::Command(message)) => command::report(&CommandError::failed(
            "joptsimple.OptionArgumentConversionException",
            message,
        )),
        Ok(opts) => run(&opts),
    };
    std::process::exit(code);
}

fn run(opts: &options::GroupOptions) -> i32 {
    let admin_props = match load_command_config(opts.command_config.as_deref()) {
        Ok(p) => p,
        // Thrown by `Utils.loadProps` inside `run`'s catch-all: reported, exit 0.
        Err(e) => return command::report(&CommandError::failed(e.java_class(), e.java_message())),
    };
    run_async(async {
        let client_id = admin_client_id(&admin_props);
        // Kafka passes --timeout to each admin call.
        let timeout = Duration::from_millis(opts.timeout_ms.max(1) as u64);
        let admin =
            match Admin::connect_with_timeout(&opts.bootstrap_server, client_id, timeout).await {
                Ok(a) => a,
                Err(e) => return command::report(&CommandError::from(e)),
            };
        let mut out = std::io::BufWriter::new(std::io::stdout());
        let result = command::run(&admin, opts, &mut out).await;
        // stdout going away (e.g. `| head`) is not the command's failure.
        let _ = out.flush();
        match result {
            Ok(()) => 0,
            Err(e) => command::report(&e),
        }
    })
    .unwrap_or(1)
}
