//! `kafka-log-dirs`: describes the log directories of brokers (`--describe`, all brokers or
//! `--broker-list`, all topics or `--topic-list`) as Kafka 3.9's `LogDirsCommand` does: the
//! two progress lines, then one JSON line with the key order Jackson gives Kafka's `HashMap`s.
//! Exit 0 on success; 1 on a usage error (the message and the help), on brokers that do not
//! exist (the message alone) or on any other failure (its message and what was thrown).

mod options;
mod report;

use std::io::Write;

use cli::admin::{admin_api_timeout, load_command_config, run_async};
use client::{Admin, ClientError};
use java_compat::exception::{EXECUTION, NUMBER_FORMAT};
use java_compat::order::{hash_order, integer_hash, Capacity};
use java_compat::JavaException;

use crate::options::{LogDirsOptions, Stop};

fn main() {
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

/// `mainNoExit`'s catch of any other throwable: its message and its trace on stderr, exit 1.
fn fail(e: &JavaException) -> i32 {
    let _ = std::io::stderr().write_all(e.report().as_bytes());
    1
}

/// A failed admin future's `get()`: an `ExecutionException` caused by the client's exception.
fn execution(e: &ClientError) -> JavaException {
    let cause = cli::exception::java_exception(e);
    JavaException::wrapping(EXECUTION, cause)
}

/// Why `execute` stopped.
enum Failure {
    /// `TerseException`: its message alone.
    Terse(String),
    Exception(JavaException),
}

fn run(opts: &LogDirsOptions) -> i32 {
    let result = run_async(execute(opts));
    let mut out = std::io::stdout();
    match result {
        None => 1,
        Some(Ok(lines)) => {
            // stdout going away (e.g. `| head`) is not the command's failure.
            let _ = out.write_all(lines.as_bytes());
            0
        }
        Some(Err((printed, Failure::Terse(message)))) => {
            let _ = out.write_all(printed.as_bytes());
            let _ = writeln!(std::io::stderr(), "{message}");
            1
        }
        Some(Err((printed, Failure::Exception(e)))) => {
            let _ = out.write_all(printed.as_bytes());
            fail(&e)
        }
    }
}

/// Kafka's `execute`: what it prints on stdout, or what it printed before failing and why.
async fn execute(opts: &LogDirsOptions) -> Result<String, (String, Failure)> {
    let fail = |e: JavaException| (String::new(), Failure::Exception(e));
    let props = load_command_config(opts.command_config.as_deref())
        .map_err(|e| fail(JavaException::new(e.java_class(), e.java_message())))?;
    let timeout = admin_api_timeout(&props)
        .map_err(|m| fail(JavaException::new(cli::admin::CONFIG_EXCEPTION, m)))?;
    let client_id = props.get("client.id").unwrap_or("log-dirs-tool");
    let admin = Admin::connect_with_timeout(&opts.bootstrap_server, client_id, timeout)
        .await
        .map_err(|e| {
            fail(
                JavaException::new(
                    "org.apache.kafka.common.KafkaException",
                    "Failed to create new KafkaAdminClient",
                )
                .caused_by(JavaException::new(
                    cli::exception::exception_class(&e),
                    e.to_string(),
                )),
            )
        })?;
    // `describeCluster().nodes()` is a `Collectors.toSet()`.
    let cluster_brokers = admin
        .live_broker_ids()
        .await
        .map_err(|e| fail(execution(&e)))?;
    let cluster_brokers = hash_order(cluster_brokers, Capacity::Default, integer_hash);
    let input_brokers = opts.brokers().map_err(|bad| {
        fail(JavaException::new(
            NUMBER_FORMAT,
            format!("For input string: \"{bad}\""),
        ))
    })?;
    // `brokers()` is a `Collectors.toSet()`.
    let input_brokers = hash_order(input_brokers, Capacity::Default, integer_hash);
    let existing = report::existing_brokers(&cluster_brokers, &input_brokers);
    let missing: Vec<i32> = {
        let set = hash_order(
            input_brokers.clone(),
            Capacity::SetCopyOf(input_brokers.len()),
            integer_hash,
        );
        set.into_iter()
            .filter(|b| !cluster_brokers.contains(b))
            .collect()
    };
    if !missing.is_empty() {
        return Err((
            String::new(),
            Failure::Terse(format!(
                "ERROR: The given brokers do not exist from --broker-list: {}. Current existent brokers: {}",
                report::comma_list(&missing),
                report::comma_list(&cluster_brokers)
            )),
        ));
    }
    let mut printed = String::from("Querying brokers for log directories information\n");
    let described = admin.describe_log_dirs(&existing).await;
    let by_broker = match report::all_descriptions(&existing, described) {
        Ok(d) => d,
        Err(e) => return Err((printed, Failure::Exception(execution(&e)))),
    };
    printed.push_str(&format!(
        "Received log directory information from brokers {}\n",
        report::comma_list(&existing)
    ));
    printed.push_str(&report::format_as_json(&by_broker, &opts.topics()));
    printed.push('\n');
    Ok(printed)
}
