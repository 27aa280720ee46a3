//! What the admin tools (`kafka-topics`, `kafka-configs`, `kafka-consumer-groups`) and the
//! console tools set up before they talk to a cluster: the `--command-config` file, the admin
//! client's settings from it (Kafka's `AdminClientConfig`), and the async runtime `main` runs on.

use std::future::Future;
use std::time::Duration;

use crate::properties::{load_properties, Properties, PropertiesError};

/// The `--command-config` file (Kafka's `Utils.loadProps`), or no properties when the option is
/// absent. `Err` carries Kafka's exception class and text (`PropertiesError::java_class`), which
/// each tool reports in its own way.
pub fn load_command_config(path: Option<&str>) -> Result<Properties, PropertiesError> {
    match path {
        Some(path) => load_properties(path),
        None => Ok(Properties::new()),
    }
}

/// `client.id` of the admin client: the file's, or Kafka's `adminclient-1` for a tool's one
/// client.
pub fn admin_client_id(props: &Properties) -> &str {
    props.get("client.id").unwrap_or("adminclient-1")
}

/// Kafka's `ConfigException` class, for tools that print the exception's class.
pub const CONFIG_EXCEPTION: &str = "org.apache.kafka.common.config.ConfigException";

/// `default.api.timeout.ms` of the admin client (ms in the file; absent: Kafka's 60 s,
/// `client::admin::DEFAULT_API_TIMEOUT`). A value Kafka's `AdminClientConfig` refuses is an
/// error with its `ConfigException` text (`Invalid value abc for configuration
/// default.api.timeout.ms: Not a number of type INT`), which each tool reports as Kafka's does
/// when `Admin.create` throws. The file's `security.protocol` is checked here too (this client
/// speaks PLAINTEXT only: SSL and SASL are refused rather than ignored), and
/// `request.timeout.ms` must be an INT, as `Admin.create` would check them.
pub fn admin_api_timeout(props: &Properties) -> Result<Duration, String> {
    if let Some(protocol) = props.get("security.protocol") {
        client::properties::check_security_protocol(protocol).map_err(|e| e.to_string())?;
    }
    if let Some(raw) = props.get("request.timeout.ms") {
        let value = raw.trim();
        value.parse::<i32>().map_err(|_| {
            format!("Invalid value {value} for configuration request.timeout.ms: Not a number of type INT")
        })?;
    }
    let Some(raw) = props.get("default.api.timeout.ms") else {
        return Ok(client::admin::DEFAULT_API_TIMEOUT);
    };
    let value = raw.trim();
    let invalid = |why: &str| {
        format!("Invalid value {value} for configuration default.api.timeout.ms: {why}")
    };
    let ms: i32 = value
        .parse()
        .map_err(|_| invalid("Not a number of type INT"))?;
    let ms = u64::try_from(ms).map_err(|_| invalid("Value must be at least 0"))?;
    Ok(Duration::from_millis(ms))
}

/// Runs `work` on a multi-threaded tokio runtime of two workers, so that a producer's sender
/// runs beside the loop that feeds it (as the Java client's I/O thread does). `None` when the
/// runtime cannot start; the reason is printed to stderr.
pub fn run_threaded<T>(work: impl Future<Output = T>) -> Option<T> {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => Some(runtime.block_on(work)),
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            None
        }
    }
}

/// Runs `work` to its end on a current-thread tokio runtime, as every tool's `main` does. `None`
/// when the runtime cannot start; the reason is printed to stderr and the tool exits 1.
pub fn run_async<T>(work: impl Future<Output = T>) -> Option<T> {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => Some(runtime.block_on(work)),
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_settings_come_from_the_command_config_or_kafkas_defaults() {
        let none = load_command_config(None).expect("no file, no properties");
        assert_eq!(admin_client_id(&none), "adminclient-1");
        assert_eq!(admin_api_timeout(&none), Ok(Duration::from_secs(60)));

        let dir = std::env::temp_dir().join(format!("cli-admin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("admin.properties");
        std::fs::write(&file, "client.id=ops\ndefault.api.timeout.ms=1500\n").expect("write");
        let props = load_command_config(file.to_str()).expect("readable file");
        assert_eq!(admin_client_id(&props), "ops");
        assert_eq!(admin_api_timeout(&props), Ok(Duration::from_millis(1500)));
        for (value, why) in [
            ("abc", "Not a number of type INT"),
            ("2147483648", "Not a number of type INT"),
            ("-1", "Value must be at least 0"),
        ] {
            std::fs::write(&file, format!("default.api.timeout.ms={value}\n")).expect("write");
            let props = load_command_config(file.to_str()).expect("readable file");
            assert_eq!(
                admin_api_timeout(&props),
                Err(format!(
                    "Invalid value {value} for configuration default.api.timeout.ms: {why}"
                ))
            );
        }

        for (line, error) in [
            ("security.protocol=SASL_SSL", "Invalid value SASL_SSL for configuration security.protocol: this client speaks PLAINTEXT only (TLS and SASL are not supported)"),
            ("request.timeout.ms=abc", "Invalid value abc for configuration request.timeout.ms: Not a number of type INT"),
        ] {
            std::fs::write(&file, format!("{line}\n")).expect("write");
            let props = load_command_config(file.to_str()).expect("readable file");
            assert_eq!(admin_api_timeout(&props), Err(error.to_string()));
        }
        std::fs::write(&file, "security.protocol=plaintext\n").expect("write");
        let props = load_command_config(file.to_str()).expect("readable file");
        assert_eq!(admin_api_timeout(&props), Ok(Duration::from_secs(60)));

        let missing = load_command_config(dir.join("missing").to_str()).expect_err("missing");
        assert_eq!(missing.java_class(), "java.nio.file.NoSuchFileException");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn run_async_returns_what_the_work_returns() {
        assert_eq!(run_async(async { 7 }), Some(7));
    }
}
