//! Reading the topics out of a ConsumerProtocol Subscription (the JoinGroup member metadata of
//! groups whose protocol type is "consumer"): OffsetDelete must refuse partitions of topics the
//! group is subscribed to. Every version starts with `version: i16, topics: [string]`.

use std::collections::BTreeSet;

/// The topics of one Subscription, or `None` if the bytes are not one (a member of another kind).
pub fn subscribed_topics(metadata: &[u8]) -> Option<BTreeSet<String>> {
    let mut rest = metadata;
    let version = i16::from_be_bytes(take::<2>(&mut rest)?);
    if version < 0 {
        return None;
    }
    let count = i32::from_be_bytes(take::<4>(&mut rest)?);
    // Each topic takes at least two bytes: a count beyond what is present is malformed.
    if count < 0 || count as usize > rest.len() / 2 {
        return None;
    }
    let mut topics = BTreeSet::new();
    for _ in 0..count {
        let len = i16::from_be_bytes(take::<2>(&mut rest)?);
        if len < 0 || len as usize > rest.len() {
            return None;
        }
        let (name, tail) = rest.split_at(len as usize);
        topics.insert(String::from_utf8(name.to_vec()).ok()?);
        rest = tail;
    }
    Some(topics)
}

fn take<const N: usize>(rest: &mut &[u8]) -> Option<[u8; N]> {
    if rest.len() < N {
        return None;
    }
    let (head, tail) = rest.split_at(N);
    *rest = tail;
    head.try_into().ok()
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
