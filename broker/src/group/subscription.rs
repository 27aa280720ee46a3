//! Reading the topics out of a ConsumerProtocol Subscription (the JoinGroup member metadata of
//! groups whose protocol type is "consumer"): OffsetDelete must refuse partitions of topics the
//! group is subscribed to. Every version starts with `version: i16, topics: [string]`.

use std::collections::BTreeSet;

use common::consumer_protocol::Subscription;

/// The topics of one Subscription, or `None` if the bytes are not one (a member of another kind).
/// Only the version and topics are read (`Subscription::decode_topics`).
pub fn subscribed_topics(metadata: &[u8]) -> Option<BTreeSet<String>> {
    Subscription::decode_topics(metadata)
        .ok()
        .map(|topics| topics.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscription(topics: &[&str]) -> Vec<u8> {
        let mut b = vec![0, 1];
        b.extend_from_slice(&(topics.len() as i32).to_be_bytes());
        for t in topics {
            b.extend_from_slice(&(t.len() as i16).to_be_bytes());
            b.extend_from_slice(t.as_bytes());
        }
        b.extend_from_slice(&(-1i32).to_be_bytes()); // user data: null
        b
    }

    #[test]
    fn topics_of_a_consumer_subscription_are_read() {
        let topics = subscribed_topics(&subscription(&["a", "bb"])).unwrap();
        assert_eq!(topics.into_iter().collect::<Vec<_>>(), ["a", "bb"]);
    }

    #[test]
    fn truncated_or_forged_subscription_is_not_one() {
        let mut b = subscription(&["topic"]);
        b.truncate(9);
        assert_eq!(subscribed_topics(&b), None);
        assert_eq!(subscribed_topics(&[0, 0, 0x7f, 0xff, 0xff, 0xff]), None);
        assert_eq!(subscribed_topics(&[]), None);
    }
}
