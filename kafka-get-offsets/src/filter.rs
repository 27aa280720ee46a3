//! Which topic-partitions kafka-get-offsets asks about: Kafka's `TopicPartitionFilter`s as
//! `GetOffsetShell` builds them from `--topic-partitions` patterns or from `--topic` (a regex,
//! Kafka's `IncludeList`) and `--partitions` (a set of ids), with the tool's error texts.

use regex::Regex;

use java_compat::exception::{NUMBER_FORMAT, RUNTIME, TERSE};
use java_compat::JavaException;

use crate::options::TOPIC_PARTITION_PATTERN;

/// Why a filter could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterError {
    /// A `TerseException`: its message alone.
    Terse(String),
    /// Any other exception: its message and its trace.
    Exception(JavaException),
}

/// `PartitionFilter`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Partitions {
    /// `PartitionsSetFilter`: every partition when empty.
    Set(Vec<i32>),
    /// `UniquePartitionFilter`.
    Unique(i32),
    /// `PartitionRangeFilter`: lower inclusive, upper exclusive.
    Range(i32, i32),
}

impl Partitions {
    fn allows(&self, p: i32) -> bool {
        match self {
            Partitions::Set(ids) => ids.is_empty() || ids.contains(&p),
            Partitions::Unique(id) => *id == p,
            Partitions::Range(lo, hi) => *lo <= p && p < *hi,
        }
    }
}

/// `TopicFilterAndPartitionFilter`: an `IncludeList` topic regex and a partition filter.
#[derive(Debug, Clone)]
struct Rule {
    topics: Regex,
    partitions: Partitions,
}

/// A `CompositeTopicPartitionFilter` (one rule for `--topic` / `--partitions`).
#[derive(Debug, Clone)]
pub struct TopicPartitionFilter {
    rules: Vec<Rule>,
}

/// Kafka's `TopicFilter.IncludeList`: the raw regex trimmed, commas read as `|`, spaces and
/// surrounding quotes dropped; matched against the whole topic name (`String.matches`). An
/// invalid regex is a `RuntimeException("<regex> is an invalid regex.")`.
fn include_list(raw: &str) -> Result<Regex, FilterError> {
    let regex = raw.trim().replace(',', "|").replace(' ', "");
    let regex = regex
        .trim_start_matches(['"', '\''])
        .trim_end_matches(['"', '\''])
        .to_string();
    Regex::new(&format!("^(?:{regex})$")).map_err(|_| {
        FilterError::Exception(JavaException::new(
            RUNTIME,
            format!("{regex} is an invalid regex."),
        ))
    })
}

/// Java's `String.split(",")`: trailing empty pieces dropped (all of them for "," alone), but a
/// string without a comma is itself the one piece ("" gives [""]).
fn java_split(s: &str) -> Vec<&str> {
    if !s.contains(',') {
        return vec![s];
    }
    let mut pieces: Vec<&str> = s.split(',').collect();
    while pieces.last() == Some(&"") {
        pieces.pop();
    }
    pieces
}

/// `Integer.parseInt` of digits only (the pattern let nothing else through): a value too big
/// is a `NumberFormatException`.
fn parse_int(digits: &str) -> Result<i32, FilterError> {
    digits.parse().map_err(|_| {
        FilterError::Exception(JavaException::new(
            NUMBER_FORMAT,
            format!("For input string: \"{digits}\""),
        ))
    })
}

impl TopicPartitionFilter {
    /// `createTopicPartitionFilterWithPatternList`: one rule per comma-separated pattern. A
    /// pattern that does not match the grammar fails as the tool fails: its `TerseException`
    /// wrapped in a `RuntimeException`.
    pub fn from_patterns(list: &str) -> Result<Self, FilterError> {
        // The grammar is a constant: it compiles.
        let grammar = Regex::new(&format!("^(?:{TOPIC_PARTITION_PATTERN})$"))
            .map_err(|e| FilterError::Terse(e.to_string()))?;
        let mut rules = Vec::new();
        for spec in java_split(list) {
            let Some(c) = grammar.captures(spec) else {
                let terse =
                    JavaException::new(TERSE, format!("Invalid rule specification: {spec}"));
                return Err(FilterError::Exception(JavaException::wrapping(
                    RUNTIME, terse,
                )));
            };
            let group = |i: usize| c.get(i).map(|m| m.as_str()).filter(|s| !s.is_empty());
            let topics = include_list(group(1).unwrap_or(".*"))?;
            let partitions = match group(2) {
                Some(id) => Partitions::Unique(parse_int(id)?),
                None => {
                    let lo = group(3).map(parse_int).transpose()?.unwrap_or(0);
                    let hi = group(4).map(parse_int).transpose()?.unwrap_or(i32::MAX);
                    Partitions::Range(lo, hi)
                }
            };
            rules.push(Rule { topics, partitions });
        }
        Ok(TopicPartitionFilter { rules })
    }

    /// `createTopicPartitionFilterWithTopicAndPartitionPattern`.
    pub fn from_topic_and_partitions(
        topic: Option<&str>,
        partitions: Option<&str>,
    ) -> Result<Self, FilterError> {
        let topics = include_list(topic.unwrap_or(".*"))?;
        let ids = match partitions {
            None | Some("") => Vec::new(),
            Some(list) => java_split(list)
                .into_iter()
                .map(|p| p.parse::<i32>())
                .collect::<Result<Vec<i32>, _>>()
                .map_err(|_| {
                    FilterError::Terse(format!("--partitions expects a comma separated list of numeric partition ids, but received: {list}"))
                })?,
        };
        Ok(TopicPartitionFilter {
            rules: vec![Rule {
                topics,
                partitions: Partitions::Set(ids),
            }],
        })
    }

    /// `isTopicAllowed`: some rule's regex matches the whole name.
    pub fn topic_allowed(&self, topic: &str) -> bool {
        self.rules.iter().any(|r| r.topics.is_match(topic))
    }

    /// `isTopicPartitionAllowed`: one rule allows both.
    pub fn partition_allowed(&self, topic: &str, partition: i32) -> bool {
        self.rules
            .iter()
            .any(|r| r.topics.is_match(topic) && r.partitions.allows(partition))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pattern_lists_follow_kafkas_grammar() {
        let f =
            TopicPartitionFilter::from_patterns("topic1:1,topic2:0-3,topic3,topic4:5-,topic5:-3")
                .unwrap();
        assert!(f.partition_allowed("topic1", 1) && !f.partition_allowed("topic1", 0));
        assert!(f.partition_allowed("topic2", 2) && !f.partition_allowed("topic2", 3));
        assert!(f.partition_allowed("topic3", 99));
        assert!(f.partition_allowed("topic4", 5) && !f.partition_allowed("topic4", 4));
        assert!(f.partition_allowed("topic5", 2) && !f.partition_allowed("topic5", 3));
        assert!(!f.topic_allowed("topic"));
        assert!(!f.topic_allowed("topic11"), "regexes match whole names");
        let any = TopicPartitionFilter::from_patterns(":0").unwrap();
        assert!(any.partition_allowed("x", 0) && !any.partition_allowed("x", 1));
        let regex = TopicPartitionFilter::from_patterns("top.*:0").unwrap();
        assert!(regex.partition_allowed("topicA", 0));
        // `"".split(",")` is one empty rule, which allows everything.
        let empty = TopicPartitionFilter::from_patterns("").unwrap();
        assert!(empty.partition_allowed("any", 7));
    }

    #[test]
    fn bad_patterns_fail_with_kafkas_exceptions() {
        match TopicPartitionFilter::from_patterns("t:x") {
            Err(FilterError::Exception(e)) => assert_eq!(
                e.to_string(),
                "java.lang.RuntimeException: org.apache.kafka.tools.TerseException: Invalid rule specification: t:x"
            ),
            other => panic!("{other:?}"),
        }
        match TopicPartitionFilter::from_patterns("t:99999999999") {
            Err(FilterError::Exception(e)) => assert_eq!(
                e.to_string(),
                "java.lang.NumberFormatException: For input string: \"99999999999\""
            ),
            other => panic!("{other:?}"),
        }
        match TopicPartitionFilter::from_topic_and_partitions(Some("["), None) {
            Err(FilterError::Exception(e)) => {
                assert_eq!(e.message.as_deref(), Some("[ is an invalid regex."))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn topic_and_partitions() {
        let f = TopicPartitionFilter::from_topic_and_partitions(Some("a,b"), Some("0,2")).unwrap();
        assert!(f.partition_allowed("a", 2) && f.partition_allowed("b", 0));
        assert!(!f.partition_allowed("a", 1) && !f.topic_allowed("c"));
        // `String.split(",")` drops the trailing empty piece.
        let trailing = TopicPartitionFilter::from_topic_and_partitions(None, Some("0,")).unwrap();
        assert!(trailing.partition_allowed("a", 0) && !trailing.partition_allowed("a", 1));
        let all = TopicPartitionFilter::from_topic_and_partitions(None, None).unwrap();
        assert!(all.partition_allowed("__consumer_offsets", 7));
        assert_eq!(
            TopicPartitionFilter::from_topic_and_partitions(None, Some("0,x")).unwrap_err(),
            FilterError::Terse(
                "--partitions expects a comma separated list of numeric partition ids, but received: 0,x".into()
            )
        );
    }
}
