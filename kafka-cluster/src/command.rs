//! ClusterTool's parser and its two commands. A failure is what `mainNoExit` prints for a
//! `Throwable`: the exception's message, then (in place of Java's stack trace) its class and
//! message.

use std::io::Write;
use std::time::{Duration, Instant};

use cli::argparse::{Exclusive, Kind, Namespace, Opt, Parser};
use client::cluster::Cluster;
use client::connection::ConnectionOptions;
use client::metadata::ClusterSnapshot;
use client::ClientError;

const PROG: &str = "kafka-cluster";

/// `UnregisterBroker`'s API key (KIP-631, served by KRaft clusters only).
const UNREGISTER_BROKER_KEY: i16 = 64;

/// Backoff between attempts while no broker answers (`retry.backoff.ms`).
const RETRY_BACKOFF: Duration = Duration::from_millis(100);

/// An exception `mainNoExit` catches: its message, then its class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `e.getMessage()`.
    pub message: String,
    /// `e.toString()`: the first line of the stack trace Kafka prints after the message.
    pub exception: String,
}

impl Failure {
    fn new(class: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Failure {
            exception: format!("{class}: {message}"),
            message,
        }
    }

    /// A failure of an admin future: `ExecutionException` wrapping the cause, whose message is
    /// the cause's `toString`.
    fn execution(cause_class: &str, cause_message: &str) -> Self {
        let cause = format!("{cause_class}: {cause_message}");
        Failure {
            exception: format!("java.util.concurrent.ExecutionException: {cause}"),
            message: cause,
        }
    }

    /// What stderr shows.
    pub fn report(&self) -> String {
        format!("{}\n{}\n", self.message, self.exception)
    }
}

/// ClusterTool's argparse4j parser: the `cluster-id` and `unregister` sub-commands, each with
/// `--bootstrap-server`/`-b` or `--bootstrap-controller`/`-C` (exactly one) and `--config`/`-c`,
/// and `unregister`'s `--id`/`-i`.
pub fn parser() -> Parser {
    let mut main = Parser::new(PROG);
    main.description = "The Kafka cluster tool.";
    main.default_help = true;
    main.commands_title = "positional arguments";
    main.commands_metavar = "{cluster-id,unregister}";
    main.commands_dest = "command";
    let mut cluster_id = Parser::sub(
        PROG,
        "cluster-id",
        "Get information about the ID of a cluster.",
    );
    let mut unregister = Parser::sub(PROG, "unregister", "Unregister a broker.");
    for sub in [&mut cluster_id, &mut unregister] {
        sub.default_help = true;
        sub.exclusive.push(Exclusive {
            title: "",
            description: "",
            required: true,
        });
        sub.opts.push(
            Opt::value(
                &["--bootstrap-server", "-b"],
                "bootstrap_server",
                Kind::Str,
                "A list of host/port pairs to use for establishing the connection to the Kafka cluster.",
            )
            .in_exclusive(0),
        );
        sub.opts.push(
            Opt::value(
                &["--bootstrap-controller", "-C"],
                "bootstrap_controller",
                Kind::Str,
                "A list of host/port pairs to use for establishing the connection to the KRaft controllers.",
            )
            .in_exclusive(0),
        );
        sub.opts.push(Opt::value(
            &["--config", "-c"],
            "config",
            Kind::Str,
            "A property file containing configurations for the Admin client.",
        ));
    }
    unregister.opts.push(
        Opt::value(
            &["--id", "-i"],
            "id",
            Kind::Int,
            "The ID of the broker to unregister.",
        )
        .required(),
    );
    main.commands = vec![cluster_id, unregister];
    main
}

/// Runs the parsed command, printing its result to `out`.
pub async fn execute(ns: &Namespace, out: &mut impl Write) -> Result<(), Failure> {
    let props = match cli::admin::load_command_config(ns.get("config")) {
        Ok(p) => p,
        Err(e) => return Err(Failure::new(e.java_class(), e.java_message())),
    };
    // `Admin.create` refuses a bad timeout with a ConfigException.
    let api_timeout = cli::admin::admin_api_timeout(&props)
        .map_err(|message| Failure::new(cli::admin::CONFIG_EXCEPTION, message))?;
    let bootstrap = match (ns.get("bootstrap_server"), ns.get("bootstrap_controller")) {
        (Some(servers), _) => servers.to_string(),
        (None, Some(_)) => {
            // Our clusters keep their metadata in ZooKeeper: there are no KRaft controllers.
            return Err(Failure::new(
                "org.apache.kafka.common.errors.UnsupportedVersionException",
                "--bootstrap-controller is not supported: this cluster runs in ZooKeeper mode \
                 and has no KRaft controllers; use --bootstrap-server",
            ));
        }
        (None, None) => String::new(),
    };
    let options = ConnectionOptions {
        client_id: cli::admin::admin_client_id(&props).to_string(),
        connect_timeout: api_timeout.min(Duration::from_secs(10)),
        ..Default::default()
    };
    let cluster = Cluster::new(&bootstrap, options).map_err(|e| {
        Failure::new(
            "org.apache.kafka.common.KafkaException",
            format!("Failed to create new KafkaAdminClient: {e}"),
        )
    })?;
    let deadline = Instant::now() + api_timeout;
    let print = |out: &mut dyn Write, line: String| {
        // stdout going away (`| head`) is not the command's failure.
        let _ = writeln!(out, "{line}");
    };
    match ns.get("command") {
        Some("cluster-id") => {
            let snapshot = metadata(&cluster, deadline, "listNodes").await?;
            match snapshot.cluster_id {
                Some(id) => print(out, format!("Cluster ID: {id}")),
                None => print(
                    out,
                    "No cluster ID found. The Kafka version is probably too old.".to_string(),
                ),
            }
            Ok(())
        }
        Some("unregister") => {
            let id = ns.get_i32("id").unwrap_or_default();
            let conn = retry(deadline, "unregisterBroker", || cluster.any_connection()).await?;
            if conn
                .versions()
                .broker_range(UNREGISTER_BROKER_KEY)
                .is_none()
            {
                print(
                    out,
                    "The target cluster does not support the broker unregistration API."
                        .to_string(),
                );
                return Ok(());
            }
            // Only a KRaft cluster advertises the API, and this client only speaks to
            // ZooKeeper-mode clusters.
            Err(Failure::execution(
                "org.apache.kafka.common.errors.UnsupportedVersionException",
                &format!("Unregistering broker {id} needs the UnregisterBroker API, which this client does not implement"),
            ))
        }
        other => Err(Failure::new(
            "java.lang.RuntimeException",
            format!("Unknown command {}", other.unwrap_or("null")),
        )),
    }
}

/// Fresh metadata from any broker, retried until `deadline` while none answers.
async fn metadata(
    cluster: &Cluster,
    deadline: Instant,
    call: &str,
) -> Result<ClusterSnapshot, Failure> {
    retry(deadline, call, || cluster.refresh(Some(&[]), false)).await
}

/// Retries `attempt` while brokers are unreachable, as the admin client does until its
/// `default.api.timeout.ms`; then Kafka's "Timed out waiting for a node assignment".
async fn retry<T, F, Fut>(deadline: Instant, call: &str, attempt: F) -> Result<T, Failure>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, ClientError>>,
{
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(ClientError::Io { .. } | ClientError::Timeout(_))
                if Instant::now() + RETRY_BACKOFF < deadline =>
            {
                tokio::time::sleep(RETRY_BACKOFF).await;
            }
            Err(ClientError::Io { .. } | ClientError::Timeout(_)) => {
                return Err(Failure::execution(
                    "org.apache.kafka.common.errors.TimeoutException",
                    &format!("Timed out waiting for a node assignment. Call: {call}"),
                ))
            }
            Err(e) => {
                return Err(Failure::execution(
                    &cli::exception::exception_class(&e),
                    &e.to_string(),
                ))
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use cli::argparse::Stop;

    /// The text with argparse4j's justified wrapping undone.
    fn words(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn commands_take_bootstrap_and_id() {
        let ns = parser()
            .parse(&args(&["cluster-id", "-b", "localhost:9092"]))
            .unwrap();
        assert_eq!(ns.get("command"), Some("cluster-id"));
        assert_eq!(ns.get("bootstrap_server"), Some("localhost:9092"));
        let ns = parser()
            .parse(&args(&[
                "unregister",
                "--bootstrap-server",
                "h:1",
                "--id",
                "3",
            ]))
            .unwrap();
        assert_eq!(ns.get_i32("id"), Some(3));
    }

    #[test]
    fn missing_connection_option_is_argparse4js_error() {
        let Err(Stop::Error(text)) = parser().parse(&args(&["cluster-id"])) else {
            panic!("expected a usage error");
        };
        assert!(
            text.starts_with("usage: kafka-cluster cluster-id [-h]"),
            "{text}"
        );
        // Wrapped after `--`, as Java's BreakIterator allows.
        assert!(
            words(&text).ends_with(
                "kafka-cluster: error: one of the arguments --bootstrap-server/-b -- bootstrap-controller/-C is required"
            ),
            "{text}"
        );
    }

    #[test]
    fn unregister_needs_an_integer_id() {
        let Err(Stop::Error(text)) =
            parser().parse(&args(&["unregister", "-b", "h:1", "--id", "x"]))
        else {
            panic!("expected a usage error");
        };
        assert!(
            words(&text).contains("argument --id/-i: could not convert 'x' to Integer"),
            "{text}"
        );
        let Err(Stop::Error(text)) = parser().parse(&args(&["unregister", "-b", "h:1"])) else {
            panic!("expected a usage error");
        };
        assert!(
            words(&text).contains("argument --id/-i is required"),
            "{text}"
        );
    }

    #[test]
    fn no_command_is_too_few_arguments() {
        let Err(Stop::Error(text)) = parser().parse(&[]) else {
            panic!("expected a usage error");
        };
        assert_eq!(
            text,
            "usage: kafka-cluster [-h] {cluster-id,unregister} ...\nkafka-cluster: error: too few arguments\n"
        );
    }

    #[test]
    fn failures_print_message_then_exception() {
        let f = Failure::execution(
            "org.apache.kafka.common.errors.TimeoutException",
            "Timed out waiting for a node assignment. Call: listNodes",
        );
        assert_eq!(
            f.report(),
            "org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. Call: listNodes\n\
             java.util.concurrent.ExecutionException: org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. Call: listNodes\n"
        );
    }
}
