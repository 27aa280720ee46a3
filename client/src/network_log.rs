//! The texts of Kafka's `NetworkClient` log lines that the client library reproduces (as
//! `tracing` events with the Kafka logger name as target), printed by the tools' log layer.

/// The logger of Kafka's `NetworkClient`, as the target of the client library's events that
/// reproduce its log lines.
pub const NETWORK_CLIENT: &str = "org.apache.kafka.clients.NetworkClient";

/// Java's `InetSocketAddress.toString()` for a `host:port` we connected to: `/127.0.0.1:9092`
/// for an address given as an IP, `localhost/127.0.0.1:9092` for a host name.
pub fn java_socket_address(peer: &str) -> String {
    use std::net::ToSocketAddrs;
    if peer.parse::<std::net::SocketAddr>().is_ok() {
        return format!("/{peer}");
    }
    let host = peer.rsplit_once(':').map_or(peer, |(h, _)| h);
    match peer.to_socket_addrs().ok().and_then(|mut a| a.next()) {
        Some(addr) => format!("{host}/{addr}"),
        None => peer.to_string(),
    }
}

/// NetworkClient's WARN text (after the `[Producer clientId=...]` prefix) for a connection that
/// could not be opened, or `None` when `e` is not such a failure. The node is the bootstrap
/// node, -1.
pub fn connection_not_established(e: &crate::ClientError) -> Option<String> {
    use std::io::ErrorKind;
    match e {
        crate::ClientError::Io { peer, source }
            if matches!(
                source.kind(),
                ErrorKind::ConnectionRefused
                    | ErrorKind::TimedOut
                    | ErrorKind::HostUnreachable
                    | ErrorKind::NetworkUnreachable
                    | ErrorKind::AddrNotAvailable
                    | ErrorKind::NotConnected
            ) =>
        {
            Some(format!(
                "Connection to node -1 ({}) could not be established. Node may not be available.",
                java_socket_address(peer)
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn refused_connections_get_network_clients_text() {
        let e = crate::ClientError::io(
            "127.0.0.1:1",
            std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        );
        assert_eq!(
            connection_not_established(&e).unwrap(),
            "Connection to node -1 (/127.0.0.1:1) could not be established. Node may not be available."
        );
        let reset = crate::ClientError::io(
            "127.0.0.1:1",
            std::io::Error::from(std::io::ErrorKind::ConnectionReset),
        );
        assert_eq!(connection_not_established(&reset), None);
        assert_eq!(java_socket_address("10.0.0.1:9092"), "/10.0.0.1:9092");
    }
}
