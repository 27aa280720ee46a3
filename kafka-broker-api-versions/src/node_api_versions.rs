//! Kafka's `NodeApiVersions.toString(true)`: the block `kafka-broker-api-versions` prints for one
//! broker, from the ranges the broker advertised in its ApiVersions response.

use std::collections::BTreeMap;

use crate::api_keys::{api_key, API_KEYS};

/// One advertised range: `ApiVersionsResponseData.ApiVersion` (key, min version, max version).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiVersion {
    pub api_key: i16,
    pub min_version: i16,
    pub max_version: i16,
}

/// `apiVersionToText`: `Name(key): min to max [usable: v]`, a single version when min = max,
/// `[unusable: node too new]` / `[unusable: node too old]` when the broker's range misses the
/// Kafka 3.9 client's, and `UNKNOWN(key): ...` without a verdict for a key 3.9 does not know.
fn api_version_text(v: &ApiVersion) -> String {
    let known = api_key(v.api_key);
    let mut text = match known {
        Some(k) => format!("{}({}): ", k.name, k.id),
        None => format!("UNKNOWN({}): ", v.api_key),
    };
    if v.min_version == v.max_version {
        text.push_str(&v.min_version.to_string());
    } else {
        text.push_str(&format!("{} to {}", v.min_version, v.max_version));
    }
    if let Some(k) = known {
        if k.latest < v.min_version {
            text.push_str(" [unusable: node too new]");
        } else if v.max_version < k.oldest {
            text.push_str(" [unusable: node too old]");
        } else {
            text.push_str(&format!(" [usable: {}]", k.latest.min(v.max_version)));
        }
    }
    text
}

/// `NodeApiVersions.toString(true)`: `(`, then one line per API in key order (tab-indented,
/// comma-separated), `UNSUPPORTED` for every client API the broker does not advertise, then `)`.
/// A key advertised twice keeps its last range, as the Java map does.
pub fn format(advertised: &[ApiVersion]) -> String {
    let mut lines: BTreeMap<i16, String> = BTreeMap::new();
    for v in advertised {
        lines.insert(v.api_key, api_version_text(v));
    }
    for k in API_KEYS.iter().filter(|k| k.client_api) {
        lines
            .entry(k.id)
            .or_insert_with(|| format!("{}({}): UNSUPPORTED", k.name, k.id));
    }
    let body: Vec<String> = lines.into_values().collect();
    format!("(\n\t{}\n)", body.join(",\n\t"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(api_key: i16, min_version: i16, max_version: i16) -> ApiVersion {
        ApiVersion {
            api_key,
            min_version,
            max_version,
        }
    }

    #[test]
    fn usable_version_is_the_lower_of_both_maxima() {
        assert_eq!(
            api_version_text(&v(0, 0, 11)),
            "Produce(0): 0 to 11 [usable: 11]"
        );
        assert_eq!(
            api_version_text(&v(1, 4, 12)),
            "Fetch(1): 4 to 12 [usable: 12]"
        );
        assert_eq!(
            api_version_text(&v(1, 0, 20)),
            "Fetch(1): 0 to 20 [usable: 17]"
        );
        assert_eq!(
            api_version_text(&v(47, 0, 0)),
            "OffsetDelete(47): 0 [usable: 0]"
        );
    }

    #[test]
    fn unusable_and_unknown_ranges_read_as_kafka_prints_them() {
        assert_eq!(
            api_version_text(&v(0, 12, 13)),
            "Produce(0): 12 to 13 [unusable: node too new]"
        );
        assert_eq!(
            api_version_text(&v(0, -2, -1)),
            "Produce(0): -2 to -1 [unusable: node too old]"
        );
        assert_eq!(api_version_text(&v(999, 0, 2)), "UNKNOWN(999): 0 to 2");
    }

    #[test]
    fn block_lists_every_client_api_in_key_order() {
        let text = format(&[v(18, 0, 4), v(0, 0, 11), v(999, 1, 1)]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "(");
        assert_eq!(lines[1], "\tProduce(0): 0 to 11 [usable: 11],");
        assert_eq!(lines[2], "\tFetch(1): UNSUPPORTED,");
        assert!(lines.contains(&"\tApiVersions(18): 0 to 4 [usable: 4],"));
        // Controller-only APIs (Vote, BrokerRegistration, ...) are not client APIs.
        assert!(!text.contains("Vote(52)"));
        assert!(!text.contains("BrokerRegistration(62)"));
        assert!(text.contains("\tDescribeQuorum(55): UNSUPPORTED,"));
        assert_eq!(lines[lines.len() - 2], "\tUNKNOWN(999): 1");
        assert_eq!(lines[lines.len() - 1], ")");
        // 80 client APIs plus the unknown one.
        assert_eq!(
            lines.len(),
            2 + API_KEYS.iter().filter(|k| k.client_api).count() + 1
        );
    }
}
