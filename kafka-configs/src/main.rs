//! `kafka-configs`: describe and alter topic and broker configs on a running cluster, with Kafka
//! 3.9's options, output and messages (`kafka.admin.ConfigCommand`): `--describe [--all]`,
//! `--alter --add-config k=v,k2=[a,b] | --add-config-file f | --delete-config k`, for
//! `--entity-type topics|brokers` with `--entity-name` or `--entity-default` (or the `--topic`,
//! `--broker`, `--broker-defaults` shorthands). Exit code 0 on success, 1 on any failure.

mod command;
mod options;

use std::io::Write;

use cli::admin::{admin_api_timeout, admin_client_id, load_command_config, run_async};
use client::Admin;

use crate::command::Failure;
use crate::options::{Action, ConfigOptions};

fn main() {
    // Kafka's WARN/ERROR log lines; the client library's own diagnostics only through RUST_LOG.
    cli::tool_log::init_tool_logging();
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let code = match options::parse_args(&args) {
        Err(abort) => abort.exit(&options::parser()),
        Ok(opts) => run(&args, &opts),
    };
    std::process::exit(code);
}

/// Prints a failure as `ConfigCommand.main` does; returns the exit code.
fn report(args: &[String], failure: Failure) -> i32 {
    let mut stderr = std::io::stderr();
    match failure {
        Failure::Message(m) => {
            let _ = writeln!(stderr, "{m}");
        }
        Failure::Exception { class, message } => {
            let _ = writeln!(
                stderr,
                "Error while executing config command with args '{}'",
                args.join(" ")
            );
            let _ = writeln!(stderr, "{class}: {message}");
        }
    }
    1
}

fn run(args: &[String], opts: &ConfigOptions) -> i32 {
    let Some(bootstrap) = opts.bootstrap_server.as_deref() else {
        // Only --zookeeper was given: this coordinator does not speak ZooKeeper's protocol.
        return report(
            args,
            Failure::Message(
                "--zookeeper is not supported by this implementation; use --bootstrap-server"
                    .into(),
            ),
        );
    };
    let admin_props = match load_command_config(opts.command_config.as_deref()) {
        Ok(p) => p,
        Err(e) => return report(args, command::unreadable_file(&e)),
    };
    let timeout = match admin_api_timeout(&admin_props) {
        Ok(t) => t,
        Err(message) => {
            return report(
                args,
                Failure::Exception {
                    class: cli::admin::CONFIG_EXCEPTION.into(),
                    message,
                },
            )
        }
    };
    let Some(result) = run_async(async {
        let client_id = admin_client_id(&admin_props);
        let admin = Admin::connect_with_timeout(bootstrap, client_id, timeout).await?;
        let mut out = std::io::BufWriter::new(std::io::stdout());
        let result = match opts.action {
            Action::Alter => command::alter(&admin, opts, &mut out).await,
            Action::Describe => command::describe(&admin, opts, &mut out).await,
        };
        // stdout going away (e.g. `| head`) is not the command's failure.
        let _ = out.flush();
        result
    }) else {
        return 1;
    };
    match result {
        Ok(()) => 0,
        Err(f) => report(args, f),
    }
}
