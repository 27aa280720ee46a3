//! `kafka-cluster`: prints the id of a cluster (`cluster-id`) and unregisters brokers
//! (`unregister`), with Kafka 3.9's arguments (argparse4j), output and exit codes
//! (`org.apache.kafka.tools.ClusterTool`).
//!
//! `cluster-id` reads the id from a Metadata response (what `Admin.describeCluster().clusterId()`
//! returns) and prints `Cluster ID: <id>`. `unregister` needs the UnregisterBroker API, which
//! only KRaft clusters serve: against a ZooKeeper-mode cluster (ours) it prints Kafka's "The
//! target cluster does not support the broker unregistration API." and exits 0, as Kafka's
//! tool does. Exit code 1 on a usage error, `-h` (argparse4j 0.7's `parseArgsOrFail` exits 1
//! after the help screen) and any failure (the exception's message, then its name, on stderr).

mod command;

use std::io::Write;

use cli::argparse::Stop;

fn main() {
    cli::tool_log::init_tool_logging();
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    std::process::exit(run(&args));
}

fn run(args: &[String]) -> i32 {
    let ns = match command::parser().parse(args) {
        Ok(ns) => ns,
        Err(Stop::Help(text)) => {
            let _ = std::io::stdout().write_all(positional_first(&text).as_bytes());
            return 1;
        }
        Err(Stop::Version) => {
            println!("{}", cli::KAFKA_VERSION);
            return 0;
        }
        Err(Stop::Error(text)) => {
            let _ = std::io::stderr().write_all(text.as_bytes());
            return 1;
        }
    };
    let Some(result) = cli::admin::run_async(async {
        let mut out = std::io::stdout().lock();
        let result = command::execute(&ns, &mut out).await;
        let _ = out.flush();
        result
    }) else {
        return 1;
    };
    match result {
        Ok(()) => 0,
        Err(failure) => {
            let _ = std::io::stderr().write_all(failure.report().as_bytes());
            1
        }
    }
}

/// argparse4j prints untitled sub-commands under "positional arguments:" before the "optional
/// arguments:" section; the shared parser lists them after it, so the sections are swapped.
fn positional_first(help: &str) -> String {
    match (
        help.find("\noptional arguments:\n"),
        help.find("\npositional arguments:\n"),
    ) {
        (Some(optional), Some(positional)) if optional < positional => format!(
            "{}{}{}",
            &help[..optional],
            &help[positional..],
            &help[optional..positional]
        ),
        _ => help.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn main_help_lists_commands_first() {
        let Err(Stop::Help(text)) = command::parser().parse(&["-h".to_string()]) else {
            panic!("expected the help");
        };
        assert_eq!(
            positional_first(&text),
            "usage: kafka-cluster [-h] {cluster-id,unregister} ...\n\n\
             The Kafka cluster tool.\n\n\
             positional arguments:\n\
             \x20 {cluster-id,unregister}\n\
             \x20   cluster-id           Get information about the ID of a cluster.\n\
             \x20   unregister           Unregister a broker.\n\n\
             optional arguments:\n\
             \x20 -h, --help             show this help message and exit\n"
        );
    }
}
