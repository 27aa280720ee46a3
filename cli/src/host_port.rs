//! `ToolsUtils.validatePortOrDie`: every comma-separated entry must end in `:<port>`.

/// Kafka's message when `--bootstrap-server`/`--broker-list` is not a host:port list
/// (its trailing newline and space included).
pub const INVALID_HOST_PORT: &str = "Please provide valid host:port like host1:9091,host2:9092\n ";

/// True when every entry of `list` has a port, as `Utils.getPort` decides
/// (`.*?\[?([0-9a-zA-Z\-%._:]*)\]?:([0-9]+)` over the whole entry).
pub fn validate_host_ports(list: &str) -> bool {
    let mut entries: Vec<&str> = list.split(',').collect();
    // Java's String.split drops trailing empty strings.
    while entries.len() > 1 && entries.last() == Some(&"") {
        entries.pop();
    }
    if entries.len() == 1 && entries[0].is_empty() {
        return false;
    }
    entries.iter().all(|e| has_port(e))
}

fn has_port(entry: &str) -> bool {
    match entry.rsplit_once(':') {
        Some((_, port)) => {
            !port.is_empty()
                && port.parse::<i32>().is_ok()
                && port.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn host_port_lists_are_validated_like_kafka() {
        assert!(validate_host_ports("localhost:9092"));
        assert!(validate_host_ports("a:1,b:2"));
        assert!(validate_host_ports("[::1]:9092"));
        assert!(validate_host_ports("a:1,"));
        assert!(!validate_host_ports("localhost"));
        assert!(!validate_host_ports("a:1,b"));
        assert!(!validate_host_ports(""));
        assert!(!validate_host_ports(",a:1"));
        assert!(!validate_host_ports("a:"));
        assert!(!validate_host_ports("a:x"));
    }
}
