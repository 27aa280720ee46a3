//! The config catalogue lives in `common::config` (one place for the broker, the tools and
//! zookeeper-lite); this module names it for the handlers and keeps the checks that tie it to
//! this broker's own keys and zookeeper-lite.

pub use common::config::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_catalogue_matches_the_names_zookeeper_lite_accepts() {
        // zookeeper-lite checks names against this same catalogue (`common::config`).
        let ours: Vec<&str> = TOPIC_CONFIG_DEFS.iter().map(|d| d.name).collect();
        assert_eq!(ours, topic_config_names().collect::<Vec<_>>());
        let mut sorted = ours.clone();
        sorted.sort_unstable();
        assert_eq!(ours, sorted);
    }

    #[test]
    fn broker_catalogue_has_every_config_this_broker_reads_and_kafkas_update_modes() {
        assert_eq!(BROKER_CONFIG_DEFS.len(), 314);
        let mut sorted: Vec<&str> = BROKER_CONFIG_DEFS.iter().map(|d| d.name).collect();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            BROKER_CONFIG_DEFS
                .iter()
                .map(|d| d.name)
                .collect::<Vec<_>>()
        );
        // Every server.properties key the broker acts on is described; Kafka's internal keys
        // (not in its published reference) are the only exception.
        for name in crate::config::KNOWN_KEYS {
            if crate::config::INTERNAL_KEYS.contains(name) {
                continue;
            }
            assert!(broker_config_def(name).is_some(), "{name}");
        }
        for name in DYNAMIC_BROKER_CONFIGS {
            let d = broker_config_def(name).unwrap_or_else(|| panic!("{name}"));
            assert!(d.kafka_dynamic(), "{name} is dynamic in Kafka");
        }
        assert!(!broker_config_def("broker.id").is_some_and(|d| d.kafka_dynamic()));
        assert!(broker_config_def("ssl.keystore.password").is_some_and(|d| d.sensitive()));
        assert_eq!(broker_default("log.segment.bytes"), Some("1073741824"));
    }
}
