//! Parsing Kafka client config values (`linger.ms=5`, `acks=all`) with Kafka's error texts: a bad
//! value is `Invalid value <v> for configuration <key>: <reason>`.

use crate::error::ClientError;

pub(crate) fn invalid(key: &str, value: &str, reason: &str) -> ClientError {
    ClientError::Config {
        key: key.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

pub(crate) fn parse_i32(key: &str, value: &str) -> Result<i32, ClientError> {
    value
        .trim()
        .parse()
        .map_err(|_| invalid(key, value, "Not a number of type INT"))
}

pub(crate) fn parse_i64(key: &str, value: &str) -> Result<i64, ClientError> {
    value
        .trim()
        .parse()
        .map_err(|_| invalid(key, value, "Not a number of type LONG"))
}

/// A non-negative INT config (Kafka's `atLeast(0)` validator).
pub(crate) fn parse_non_negative_i32(key: &str, value: &str) -> Result<i32, ClientError> {
    let n = parse_i32(key, value)?;
    if n < 0 {
        return Err(invalid(key, value, "Value must be at least 0"));
    }
    Ok(n)
}

/// A non-negative LONG config.
pub(crate) fn parse_non_negative_i64(key: &str, value: &str) -> Result<i64, ClientError> {
    let n = parse_i64(key, value)?;
    if n < 0 {
        return Err(invalid(key, value, "Value must be at least 0"));
    }
    Ok(n)
}

pub(crate) fn parse_bool(key: &str, value: &str) -> Result<bool, ClientError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(
            key,
            value,
            "Expected value to be either true or false",
        )),
    }
}

/// `security.protocol` (Kafka's `CommonClientConfigs`, validated case-insensitively over
/// `SecurityProtocol`): this client speaks PLAINTEXT only, so SSL and SASL are refused instead
/// of silently connecting in plaintext; other values get Kafka's `ConfigException` text.
pub fn check_security_protocol(value: &str) -> Result<(), ClientError> {
    match value.trim().to_ascii_uppercase().as_str() {
        "PLAINTEXT" => Ok(()),
        "SSL" | "SASL_PLAINTEXT" | "SASL_SSL" => Err(invalid(
            "security.protocol",
            value,
            "this client speaks PLAINTEXT only (TLS and SASL are not supported)",
        )),
        _ => Err(invalid(
            "security.protocol",
            value,
            "String must be one of (case insensitive): PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL",
        )),
    }
}

/// Kafka logs unknown keys instead of failing (`AbstractConfig.logUnused`).
pub(crate) fn warn_unknown(key: &str) {
    tracing::warn!("These configurations '[{key}]' were supplied but are not used yet.");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plaintext_is_accepted_as_security_protocol() {
        assert!(check_security_protocol("plaintext").is_ok());
        let text = |v: &str| check_security_protocol(v).err().map(|e| e.to_string());
        assert_eq!(
            text("SSL").as_deref(),
            Some("Invalid value SSL for configuration security.protocol: this client speaks PLAINTEXT only (TLS and SASL are not supported)")
        );
        assert_eq!(
            text("BOGUS").as_deref(),
            Some("Invalid value BOGUS for configuration security.protocol: String must be one of (case insensitive): PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL")
        );
    }

    #[test]
    fn bad_number_names_key_and_value() {
        let e = parse_i64("linger.ms", "abc").err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("Invalid value abc for configuration linger.ms: Not a number of type LONG")
        );
        assert!(parse_non_negative_i32("retries", "-1").is_err());
        assert_eq!(parse_bool("x", "TRUE").ok(), Some(true));
        assert!(parse_bool("x", "yes").is_err());
    }
}
