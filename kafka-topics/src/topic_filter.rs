//! `--topic` as a filter (Kafka's `TopicFilter.IncludeList`): `,` means `|`, spaces and
//! surrounding quotes are dropped, and the regex must match the whole topic name.

use regex::Regex;

/// Topics Kafka treats as internal (`Topic.isInternal`).
pub fn is_internal(topic: &str) -> bool {
    topic == "__consumer_offsets" || topic == "__transaction_state"
}

/// A compiled `--topic` include list.
#[derive(Debug, Clone)]
pub struct IncludeList {
    regex: Regex,
}

impl IncludeList {
    /// Fails with Kafka's `<regex> is an invalid regex.` when the pattern does not compile.
    pub fn new(raw: &str) -> Result<Self, String> {
        let cleaned = clean(raw);
        Regex::new(&format!("^(?:{cleaned})$"))
            .map(|regex| IncludeList { regex })
            .map_err(|_| format!("{cleaned} is an invalid regex."))
    }

    pub fn is_topic_allowed(&self, topic: &str, exclude_internal: bool) -> bool {
        self.regex.is_match(topic) && !(exclude_internal && is_internal(topic))
    }
}

fn clean(raw: &str) -> String {
    raw.trim()
        .replace(',', "|")
        .replace(' ', "")
        .trim_start_matches(['"', '\''])
        .trim_end_matches(['"', '\''])
        .to_string()
}

/// `getTopics`: sorted names, filtered by the include list (if any) and the internal-topic rule.
pub fn select_topics(
    mut all: Vec<(String, bool)>,
    include: Option<&IncludeList>,
    exclude_internal: bool,
) -> Vec<String> {
    all.sort();
    all.into_iter()
        .filter(|(name, internal)| {
            let internal = *internal || is_internal(name);
            match include {
                Some(list) => {
                    list.is_topic_allowed(name, exclude_internal) && !(exclude_internal && internal)
                }
                None => !(exclude_internal && internal),
            }
        })
        .map(|(name, _)| name)
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<(String, bool)> {
        v.iter().map(|n| (n.to_string(), is_internal(n))).collect()
    }

    #[test]
    fn regex_must_match_the_whole_name() {
        let f = IncludeList::new("test").unwrap();
        assert!(f.is_topic_allowed("test", false));
        assert!(!f.is_topic_allowed("test2", false));
        assert!(!f.is_topic_allowed("mytest", false));
        let f = IncludeList::new("test.*").unwrap();
        assert!(f.is_topic_allowed("test2", false));
    }

    #[test]
    fn comma_means_alternation_and_spaces_and_quotes_are_dropped() {
        let f = IncludeList::new("'a, b'").unwrap();
        assert!(f.is_topic_allowed("a", false));
        assert!(f.is_topic_allowed("b", false));
        assert!(!f.is_topic_allowed("a,b", false));
    }

    #[test]
    fn invalid_regex_message() {
        assert_eq!(
            IncludeList::new("a(").unwrap_err(),
            "a( is an invalid regex."
        );
    }

    #[test]
    fn selection_is_sorted_and_can_exclude_internal_topics() {
        let all = names(&["b", "__consumer_offsets", "a"]);
        assert_eq!(
            select_topics(all.clone(), None, false),
            vec!["__consumer_offsets", "a", "b"]
        );
        assert_eq!(select_topics(all.clone(), None, true), vec!["a", "b"]);
        let f = IncludeList::new(".*").unwrap();
        assert_eq!(select_topics(all, Some(&f), true), vec!["a", "b"]);
    }
}
