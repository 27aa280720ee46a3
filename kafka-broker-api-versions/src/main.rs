//! `kafka-broker-api-versions`: asks every broker of a cluster which API versions it serves and
//! prints, per broker, Kafka 3.9's `NodeApiVersions.toString(true)` block (`kafka.admin.
//! BrokerApiVersionsCommand`): `host:port (id: N rack: null) -> (`, one line per API with the
//! version the Kafka 3.9 client would use, then `)`.
//!
//! Options as Kafka's: `--bootstrap-server` (required), `--command-config`, `--help`,
//! `--version`. Exit code 0 when the brokers were listed (a broker that does not answer is an
//! `ERROR:` line, as in Kafka); 1 on a usage error or when no bootstrap server answers (Kafka's
//! `Request METADATA failed on brokers List(...)` exception escaping `main`).

mod api_keys;
mod node_api_versions;

use std::io::Write;
use std::time::Duration;

use cli::usage::{check_required_args, maybe_help_or_version};
use cli::{Abort, OptionParser};
use client::cluster::Cluster;
use client::connection::{Connection, ConnectionOptions};
use client::metadata::BrokerNode;
use client::ClientError;
use kafka_protocol::messages::ApiVersionsRequest;

use crate::node_api_versions::ApiVersion;

/// What `maybePrintHelpOrVersion` prints above the usage.
const HELP_MESSAGE: &str = "This tool helps to retrieve broker version information.";

/// The legacy admin client's `request.timeout.ms` default (`DefaultRequestTimeoutMs`).
const REQUEST_TIMEOUT: Duration = Duration::from_millis(5000);
/// `socket.connection.setup.timeout.ms`'s default.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(10_000);

/// `BrokerVersionCommandOptions`.
fn parser() -> OptionParser {
    let mut p = OptionParser::new();
    p.accepts(
        "command-config",
        "A property file containing configs to be passed to Admin Client.",
    )
    .with_required_arg()
    .described_as("command config property file");
    p.accepts("bootstrap-server", "REQUIRED: The server to connect to.")
        .with_required_arg()
        .described_as("server(s) to use for bootstrapping");
    p
}

fn main() {
    cli::tool_log::init_tool_logging();
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    std::process::exit(run(&args));
}

/// An exception escaping `main`: the JVM's `Exception in thread "main" class: message`, exit 1.
fn uncaught(exception: &str) -> i32 {
    let _ = writeln!(
        std::io::stderr(),
        "Exception in thread \"main\" {exception}"
    );
    1
}

fn run(args: &[String]) -> i32 {
    let parser = parser();
    let opts = match parser.parse(args) {
        Ok(o) => o,
        Err(e) => return uncaught(&format!("{}: {e}", e.java_class())),
    };
    if let Err(abort) = maybe_help_or_version(args.len(), &opts, HELP_MESSAGE)
        .and_then(|()| check_required_args(&opts, &["bootstrap-server"]))
    {
        return print_abort(&abort, &parser);
    }
    let props = match cli::admin::load_command_config(opts.value_of("command-config")) {
        Ok(p) => p,
        Err(e) => return uncaught(&e.java_exception()),
    };
    let bootstrap = opts.value_of("bootstrap-server").unwrap_or_default();
    let options = ConnectionOptions {
        client_id: props.get("client.id").unwrap_or("admin-1").to_string(),
        request_timeout: REQUEST_TIMEOUT,
        connect_timeout: CONNECT_TIMEOUT,
        ..Default::default()
    };
    let cluster = match Cluster::new(bootstrap, options.clone()) {
        Ok(c) => c,
        Err(e) => return uncaught(&config_exception(&e)),
    };
    let Some(result) = cli::admin::run_async(list_all(&cluster, bootstrap, &options)) else {
        return 1;
    };
    match result {
        Ok(text) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            0
        }
        Err(exception) => uncaught(&exception),
    }
}

fn print_abort(abort: &Abort, parser: &OptionParser) -> i32 {
    let (out, err) = abort.render(parser);
    let _ = std::io::stdout().write_all(out.as_bytes());
    let _ = std::io::stderr().write_all(err.as_bytes());
    abort.exit_code()
}

/// `ClientUtils.parseAndValidateAddresses`' `ConfigException` for a bad `bootstrap.servers`
/// (the client's own text).
fn config_exception(e: &ClientError) -> String {
    format!("{}: {e}", cli::admin::CONFIG_EXCEPTION)
}

/// Java's `Node.toString`: `host:port (id: N rack: null)`.
fn node_text(node: &BrokerNode) -> String {
    format!(
        "{}:{} (id: {} rack: {})",
        node.host,
        node.port,
        node.id,
        node.rack.as_deref().unwrap_or("null")
    )
}

/// `listAllBrokerVersionInfo` and the printing loop: the brokers of a Metadata response from the
/// first bootstrap server that answers (`sendAnyNode`), then each broker's ApiVersions.
async fn list_all(
    cluster: &Cluster,
    bootstrap: &str,
    options: &ConnectionOptions,
) -> Result<String, String> {
    let snapshot = match cluster.refresh(Some(&[]), false).await {
        Ok(s) => s,
        Err(e) => {
            tracing::debug!("Request METADATA failed: {e}");
            // The bootstrap nodes as the legacy client names them: ids -1, -2, ...
            let nodes: Vec<String> = client::metadata::parse_bootstrap(bootstrap)
                .unwrap_or_default()
                .iter()
                .enumerate()
                .map(|(i, addr)| format!("{addr} (id: {} rack: null)", -1 - i as i32))
                .collect();
            return Err(format!(
                "java.lang.RuntimeException: Request METADATA failed on brokers List({})",
                nodes.join(", ")
            ));
        }
    };
    let mut text = String::new();
    for node in snapshot.brokers.values() {
        match node_api_versions(&node.address(), options).await {
            Ok(versions) => text.push_str(&format!(
                "{} -> {}\n",
                node_text(node),
                node_api_versions::format(&versions)
            )),
            Err(e) => text.push_str(&format!(
                "{} -> ERROR: {}: {e}\n",
                node_text(node),
                cli::exception::exception_class(&e)
            )),
        }
    }
    Ok(text)
}

/// `getNodeApiVersions`: every range one broker advertises.
async fn node_api_versions(
    addr: &str,
    options: &ConnectionOptions,
) -> Result<Vec<ApiVersion>, ClientError> {
    let conn = Connection::connect(addr, options.clone()).await?;
    let response = conn.send(ApiVersionsRequest::default()).await?;
    ClientError::check(response.error_code, None)?;
    Ok(response
        .api_keys
        .iter()
        .map(|k| ApiVersion {
            api_key: k.api_key,
            min_version: k.min_version,
            max_version: k.max_version,
        })
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn missing_bootstrap_server_is_kafkas_usage_error() {
        let p = parser();
        let opts = p.parse(&["--command-config", "x"]).unwrap();
        let abort = check_required_args(&opts, &["bootstrap-server"]).unwrap_err();
        let (out, err) = abort.render(&p);
        assert!(out.is_empty());
        assert!(err.starts_with("Missing required argument \"[bootstrap-server]\"\n"));
        assert!(err.contains(
            "--bootstrap-server <String: server(s)    REQUIRED: The server to connect to."
        ));
    }

    #[test]
    fn help_is_kafkas_option_table() {
        let abort = maybe_help_or_version(1, &parser().parse(&["--help"]).unwrap(), HELP_MESSAGE)
            .unwrap_err();
        let (out, err) = abort.render(&parser());
        assert_eq!(out, "");
        assert_eq!(
            err,
            "\
             This tool helps to retrieve broker version information.\n\
             Option                                   Description                            \n\
             ------                                   -----------                            \n\
             --bootstrap-server <String: server(s)    REQUIRED: The server to connect to.    \n\
             \x20 to use for bootstrapping>                                                     \n\
             --command-config <String: command        A property file containing configs to  \n\
             \x20 config property file>                    be passed to Admin Client.           \n\
             --help                                   Print usage information.               \n\
             --version                                Display Kafka version.                 \n"
        );
    }

    #[test]
    fn bad_bootstrap_urls_are_config_exceptions() {
        let e = Cluster::new("localhost", ConnectionOptions::default())
            .err()
            .unwrap();
        assert_eq!(
            config_exception(&e),
            "org.apache.kafka.common.config.ConfigException: Invalid url in bootstrap.servers: localhost"
        );
        let e = Cluster::new("", ConnectionOptions::default())
            .err()
            .unwrap();
        assert_eq!(
            config_exception(&e),
            "org.apache.kafka.common.config.ConfigException: No resolvable bootstrap urls given in bootstrap.servers"
        );
    }

    #[test]
    fn nodes_print_as_java_node_to_string() {
        let node = BrokerNode {
            id: 2,
            host: "localhost".into(),
            port: 9094,
            rack: None,
        };
        assert_eq!(node_text(&node), "localhost:9094 (id: 2 rack: null)");
    }
}
