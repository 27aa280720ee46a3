//! `kafka-leader-election`: elects the preferred replica, or (unclean) any live replica, as the
//! leader of the partitions named by `--topic` and `--partition`, by `--path-to-json-file`, or of
//! every partition (`--all-topic-partitions`), with Kafka 3.9's options, output, messages and
//! exit codes (`org.apache.kafka.tools.LeaderElectionCommand`): 0 when every partition got (or
//! already had) the leader asked for, 1 on a usage error, a failed partition or any other failure
//! (the exception's message and what was thrown on stderr); `--help` exits 1, `--version` 0.

mod command;
mod json_file;
mod options;

use std::io::Write;
use std::time::Duration;

use cli::admin::{admin_api_timeout, admin_client_id, load_command_config, run_async};
use client::Admin;

use crate::options::{ElectionOptions, Stop};
use java_compat::JavaException;

/// The tool's `default.api.timeout.ms` unless `--admin.config` sets one (Kafka's `run` is
/// given 30 s).
const DEFAULT_API_TIMEOUT: Duration = Duration::from_secs(30);

fn main() {
    // Kafka's WARN/ERROR log lines; the client library's own diagnostics only through RUST_LOG.
    cli::tool_log::init_tool_logging();
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let code = match options::parse_args(&args) {
        Err(Stop::Abort(abort)) => abort.exit(&options::parser()),
        Err(Stop::Exception(e)) => fail(&e),
        Ok(opts) => run(&opts),
    };
    std::process::exit(code);
}

/// `mainNoExit`'s catch: the exception on stderr, exit 1.
fn fail(e: &JavaException) -> i32 {
    let _ = std::io::stderr().write_all(e.report().as_bytes());
    1
}

fn run(opts: &ElectionOptions) -> i32 {
    let props = match load_command_config(opts.admin_config.as_deref()) {
        Ok(p) => p,
        // `Utils.loadProps` throws the IOException of `Files.newInputStream`.
        Err(e) => return fail(&JavaException::new(e.java_class(), e.java_message())),
    };
    let timeout = match admin_api_timeout(&props) {
        // Kafka's tool sets its own 30 s when the file does not.
        Ok(_) if !props.contains("default.api.timeout.ms") => DEFAULT_API_TIMEOUT,
        Ok(t) => t,
        Err(message) => {
            return fail(&JavaException::new(cli::admin::CONFIG_EXCEPTION, message));
        }
    };
    let Some(result) = run_async(async {
        let admin = match Admin::connect_with_timeout(
            &opts.bootstrap_server,
            admin_client_id(&props),
            timeout,
        )
        .await
        {
            Ok(admin) => admin,
            Err(e) => {
                return Err(JavaException::new(
                    "org.apache.kafka.common.KafkaException",
                    "Failed to create new KafkaAdminClient",
                )
                .caused_by(cli::exception::java_exception(&e)))
            }
        };
        let mut out = std::io::BufWriter::new(std::io::stdout());
        let result =
            command::elect_leaders(&admin, opts.election_type, &opts.partitions, &mut out).await;
        // stdout going away (e.g. `| head`) is not the command's failure.
        let _ = out.flush();
        result
    }) else {
        return 1;
    };
    match result {
        Ok(()) => 0,
        Err(e) => fail(&e),
    }
}
