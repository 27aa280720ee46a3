//! Kafka's topic name rules (`org.apache.kafka.common.internals.Topic`): which names are legal,
//! and which legal names may collide in metric names. The texts of [`InvalidTopicName`] are the
//! ones our servers answer with (`Topic name is invalid: ...`), kept as they were.

use thiserror::Error;

/// The longest legal topic name, in bytes (Kafka's `Topic.MAX_NAME_LENGTH`).
pub const MAX_NAME_LENGTH: usize = 249;

/// The internal topic of consumer group offsets (Kafka's `Topic.GROUP_METADATA_TOPIC_NAME`).
pub const GROUP_METADATA_TOPIC_NAME: &str = "__consumer_offsets";

/// Why a topic name is illegal. Displays as `Topic name is invalid: <reason>`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InvalidTopicName {
    /// The empty name.
    #[error("Topic name is invalid: the empty string is not allowed")]
    Empty,
    /// `.` or `..`, which would be directories of their own.
    #[error("Topic name is invalid: '{0}' is not allowed")]
    Dots(String),
    /// Longer than [`MAX_NAME_LENGTH`] bytes.
    #[error("Topic name is invalid: the length of '{0}' is longer than the max allowed length {MAX_NAME_LENGTH}")]
    TooLong(String),
    /// A character outside ASCII alphanumerics, `.`, `_` and `-`.
    #[error("Topic name is invalid: '{0}' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'")]
    IllegalChars(String),
}

/// Kafka's `Topic.validate`: `Ok` for a legal topic name. The checks run in Kafka's order (empty,
/// `.`/`..`, length, characters), so a name breaking several rules gets the first reason.
pub fn validate(name: &str) -> Result<(), InvalidTopicName> {
    if name.is_empty() {
        Err(InvalidTopicName::Empty)
    } else if name == "." || name == ".." {
        Err(InvalidTopicName::Dots(name.to_string()))
    } else if name.len() > MAX_NAME_LENGTH {
        Err(InvalidTopicName::TooLong(name.to_string()))
    } else if !contains_valid_chars(name) {
        Err(InvalidTopicName::IllegalChars(name.to_string()))
    } else {
        Ok(())
    }
}

/// Kafka's `Topic.containsValidPattern`: only ASCII alphanumerics, `.`, `_` and `-`.
pub fn contains_valid_chars(name: &str) -> bool {
    name.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

/// Kafka's `Topic.hasCollisionChars`: names containing `.` or `_` may collide in metric names,
/// where `.` becomes `_`.
pub fn has_collision_chars(name: &str) -> bool {
    name.contains('.') || name.contains('_')
}

/// Kafka's `Topic.unifyCollisionChars`: the metric-name form of a topic (`.` -> `_`); two topics
/// with the same form collide.
pub fn unify_collision_chars(name: &str) -> String {
    name.replace('.', "_")
}

/// Kafka's `Topic.isInternal`: the topics Kafka keeps for itself.
pub fn is_internal(name: &str) -> bool {
    name == GROUP_METADATA_TOPIC_NAME || name == "__transaction_state"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legal_names_pass() {
        for name in [
            "a",
            "orders",
            "my.topic",
            "my_topic-2",
            "A9",
            &"x".repeat(249),
        ] {
            assert_eq!(validate(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn illegal_names_get_todays_texts() {
        assert_eq!(
            validate("").map_err(|e| e.to_string()),
            Err("Topic name is invalid: the empty string is not allowed".to_string())
        );
        assert_eq!(
            validate("..").map_err(|e| e.to_string()),
            Err("Topic name is invalid: '..' is not allowed".to_string())
        );
        assert_eq!(
            validate(".").map_err(|e| e.to_string()),
            Err("Topic name is invalid: '.' is not allowed".to_string())
        );
        let long = "x".repeat(250);
        assert_eq!(
            validate(&long).map_err(|e| e.to_string()),
            Err(format!(
                "Topic name is invalid: the length of '{long}' is longer than the max allowed length 249"
            ))
        );
        assert_eq!(
            validate("a b").map_err(|e| e.to_string()),
            Err("Topic name is invalid: 'a b' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'".to_string())
        );
        assert_eq!(
            validate("tópico"),
            Err(InvalidTopicName::IllegalChars("tópico".into()))
        );
    }

    #[test]
    fn length_is_checked_before_characters() {
        let long = "é".repeat(200);
        assert_eq!(
            validate(&long),
            Err(InvalidTopicName::TooLong(long.clone()))
        );
    }

    #[test]
    fn collision_chars() {
        assert!(has_collision_chars("a.b"));
        assert!(has_collision_chars("a_b"));
        assert!(!has_collision_chars("a-b"));
        assert_eq!(unify_collision_chars("a.b_c"), "a_b_c");
        assert!(is_internal("__consumer_offsets"));
        assert!(!is_internal("orders"));
    }
}
