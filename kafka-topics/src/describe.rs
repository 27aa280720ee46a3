//! The `--describe` output lines (`TopicDescription.printDescription` and
//! `PartitionDescription.printDescription`) and the partition filters, as pure functions.

use base64::Engine;

/// One partition as the describe output needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionView {
    pub partition: i32,
    pub leader: Option<i32>,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
}

/// A reassignment in progress of one partition, from ListPartitionReassignments (Kafka's
/// `PartitionReassignment`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReassignmentView {
    pub replicas: Vec<i32>,
    pub adding: Vec<i32>,
    pub removing: Vec<i32>,
}

/// The reassignments in progress of one topic's partitions, by partition id.
pub type TopicReassignments = std::collections::BTreeMap<i32, ReassignmentView>;

/// Kafka's `TopicCommand.isReassignmentInProgress`: some current replica is being added or
/// removed (a reassignment may complete between the two requests describe makes).
fn is_reassignment_in_progress(p: &PartitionView, r: Option<&ReassignmentView>) -> bool {
    r.is_some_and(|r| {
        p.replicas
            .iter()
            .any(|b| r.adding.contains(b) || r.removing.contains(b))
    })
}

/// Kafka's `TopicCommand.getReplicationFactor`: while a reassignment runs, the replicas it
/// keeps (every replica but the adding ones), else the replica count.
fn replication_factor(p: &PartitionView, r: Option<&ReassignmentView>) -> usize {
    match r {
        Some(r) if is_reassignment_in_progress(p, Some(r)) => {
            r.replicas.len().saturating_sub(r.adding.len())
        }
        _ => p.replicas.len(),
    }
}

/// One topic config entry (from DescribeConfigs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigView {
    pub name: String,
    pub value: Option<String>,
    pub is_default: bool,
}

/// One topic to describe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicView {
    pub name: String,
    pub topic_id: [u8; 16],
    pub partitions: Vec<PartitionView>,
}

/// The describe options that change what is printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DescribeFilters {
    pub under_replicated: bool,
    pub unavailable: bool,
    pub under_min_isr: bool,
    pub at_min_isr: bool,
    pub topics_with_overrides: bool,
}

impl DescribeFilters {
    /// With any partition filter the summary line is not printed (`describeConfigs` in Kafka).
    fn prints_summary(&self) -> bool {
        !(self.under_replicated || self.unavailable || self.under_min_isr || self.at_min_isr)
    }
}

/// Kafka's `Uuid.toString`: URL-safe base64 without padding (22 characters).
pub fn format_topic_id(id: &[u8; 16]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

/// Parses a `--topic-id` (22 base64 characters).
pub fn parse_topic_id(raw: &str) -> Result<[u8; 16], String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw.trim_end_matches('='))
        .map_err(|_| format!("Unable to decode '{raw}' as a base64 topic id"))?;
    <[u8; 16]>::try_from(bytes.as_slice()).map_err(|_| {
        format!("Unable to decode '{raw}' as a base64 topic id: it is not 16 bytes long")
    })
}

fn join_ids(ids: &[i32]) -> String {
    ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

/// `Topic: t\tTopicId: id\tPartitionCount: n\tReplicationFactor: rf\tConfigs: k=v,...`
pub fn topic_line(topic: &TopicView, replication_factor: usize, configs: &[ConfigView]) -> String {
    let overrides: Vec<String> = configs
        .iter()
        .filter(|c| !c.is_default)
        .map(|c| format!("{}={}", c.name, c.value.as_deref().unwrap_or("null")))
        .collect();
    let mut line = format!("Topic: {}", topic.name);
    if topic.topic_id != [0u8; 16] {
        line.push_str(&format!("\tTopicId: {}", format_topic_id(&topic.topic_id)));
    }
    line.push_str(&format!(
        "\tPartitionCount: {}\tReplicationFactor: {}\tConfigs: {}",
        topic.partitions.len(),
        replication_factor,
        overrides.join(",")
    ));
    line
}

/// `\tTopic: t\tPartition: p\tLeader: l\tReplicas: ..\tIsr: ..\tElr: N/A\tLastKnownElr: N/A`
/// (ELR is unknown without DescribeTopicPartitions, as against a ZooKeeper-mode broker).
/// While a reassignment of the partition runs, `\tAdding Replicas: ..\tRemoving Replicas: ..`
/// follows the ISR.
pub fn partition_line(topic: &str, p: &PartitionView, r: Option<&ReassignmentView>) -> String {
    let leader = p
        .leader
        .map_or_else(|| "none".to_string(), |l| l.to_string());
    let moving = r.map_or_else(String::new, |r| {
        format!(
            "\tAdding Replicas: {}\tRemoving Replicas: {}",
            join_ids(&r.adding),
            join_ids(&r.removing)
        )
    });
    format!(
        "\tTopic: {topic}\tPartition: {}\tLeader: {leader}\tReplicas: {}\tIsr: {}{moving}\tElr: N/A\tLastKnownElr: N/A",
        p.partition,
        join_ids(&p.replicas),
        join_ids(&p.isr)
    )
}

fn min_isr(configs: &[ConfigView]) -> usize {
    configs
        .iter()
        .find(|c| c.name == "min.insync.replicas")
        .and_then(|c| c.value.as_deref())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1)
}

fn should_print_partition(
    p: &PartitionView,
    r: Option<&ReassignmentView>,
    configs: &[ConfigView],
    live: &[i32],
    f: &DescribeFilters,
) -> bool {
    if f.prints_summary() {
        return true;
    }
    let under_replicated = replication_factor(p, r) > p.isr.len();
    let unavailable = match p.leader {
        None => true,
        Some(l) => !live.contains(&l),
    };
    let min = min_isr(configs);
    let under_min_isr = p.leader.is_none() || p.isr.len() < min;
    let at_min_isr = p.isr.len() == min;
    (f.under_replicated && under_replicated)
        || (f.unavailable && unavailable)
        || (f.under_min_isr && under_min_isr)
        || (f.at_min_isr && at_min_isr)
}

/// Every output line for one topic, in Kafka's order (summary, then partitions by id), for a
/// topic with no reassignment in progress.
#[cfg(test)]
pub fn describe_lines(
    topic: &TopicView,
    configs: &[ConfigView],
    live_brokers: &[i32],
    filters: &DescribeFilters,
) -> Vec<String> {
    describe_lines_reassigning(
        topic,
        configs,
        live_brokers,
        filters,
        &TopicReassignments::new(),
    )
}

/// [`describe_lines`] with the topic's reassignments in progress: their replicas being added
/// and removed are shown, and the replication factor is the one they keep.
pub fn describe_lines_reassigning(
    topic: &TopicView,
    configs: &[ConfigView],
    live_brokers: &[i32],
    filters: &DescribeFilters,
    reassignments: &TopicReassignments,
) -> Vec<String> {
    let mut partitions = topic.partitions.clone();
    partitions.sort_by_key(|p| p.partition);
    let mut lines = Vec::new();
    if filters.prints_summary() {
        let has_overrides = configs.iter().any(|c| !c.is_default);
        if !filters.topics_with_overrides || has_overrides {
            let rf = partitions.first().map_or(0, |p| {
                replication_factor(p, reassignments.get(&p.partition))
            });
            lines.push(topic_line(topic, rf, configs));
        }
    }
    if !filters.topics_with_overrides {
        for p in &partitions {
            let r = reassignments.get(&p.partition);
            if should_print_partition(p, r, configs, live_brokers, filters) {
                lines.push(partition_line(&topic.name, p, r));
            }
        }
    }
    lines
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn topic() -> TopicView {
        TopicView {
            name: "vmc-topic".into(),
            topic_id: [0x11; 16],
            partitions: vec![
                PartitionView {
                    partition: 1,
                    leader: Some(0),
                    replicas: vec![0],
                    isr: vec![0],
                },
                PartitionView {
                    partition: 0,
                    leader: Some(0),
                    replicas: vec![0, 1],
                    isr: vec![0],
                },
                PartitionView {
                    partition: 2,
                    leader: None,
                    replicas: vec![1],
                    isr: vec![],
                },
            ],
        }
    }

    fn cfg(name: &str, value: &str, is_default: bool) -> ConfigView {
        ConfigView {
            name: name.into(),
            value: Some(value.into()),
            is_default,
        }
    }

    #[test]
    fn topic_id_is_url_safe_base64_without_padding() {
        assert_eq!(format_topic_id(&[0xff; 16]), "_____________________w");
        assert_eq!(format_topic_id(&[0xff; 16]).len(), 22);
        assert_eq!(
            parse_topic_id("_____________________w").unwrap(),
            [0xff; 16]
        );
        assert!(parse_topic_id("abc").is_err());
    }

    #[test]
    fn describe_prints_summary_then_sorted_partition_lines() {
        let configs = vec![
            cfg("segment.bytes", "1024", false),
            cfg("retention.ms", "604800000", true),
        ];
        let lines = describe_lines(&topic(), &configs, &[0], &DescribeFilters::default());
        assert_eq!(
            lines,
            vec![
                "Topic: vmc-topic\tTopicId: EREREREREREREREREREREQ\tPartitionCount: 3\tReplicationFactor: 2\tConfigs: segment.bytes=1024",
                "\tTopic: vmc-topic\tPartition: 0\tLeader: 0\tReplicas: 0,1\tIsr: 0\tElr: N/A\tLastKnownElr: N/A",
                "\tTopic: vmc-topic\tPartition: 1\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: N/A\tLastKnownElr: N/A",
                "\tTopic: vmc-topic\tPartition: 2\tLeader: none\tReplicas: 1\tIsr: \tElr: N/A\tLastKnownElr: N/A",
            ]
        );
    }

    #[test]
    fn a_partition_being_reassigned_shows_its_adding_and_removing_replicas() {
        let t = TopicView {
            name: "moving".into(),
            topic_id: [0; 16],
            partitions: vec![PartitionView {
                partition: 0,
                leader: Some(0),
                replicas: vec![0, 1, 2],
                isr: vec![0, 2],
            }],
        };
        let moving = TopicReassignments::from([(
            0,
            ReassignmentView {
                replicas: vec![0, 1, 2],
                adding: vec![1],
                removing: vec![2],
            },
        )]);
        let lines =
            describe_lines_reassigning(&t, &[], &[0, 1, 2], &DescribeFilters::default(), &moving);
        assert_eq!(
            lines,
            vec![
                "Topic: moving\tPartitionCount: 1\tReplicationFactor: 2\tConfigs: ",
                "\tTopic: moving\tPartition: 0\tLeader: 0\tReplicas: 0,1,2\tIsr: 0,2\tAdding Replicas: 1\tRemoving Replicas: 2\tElr: N/A\tLastKnownElr: N/A",
            ]
        );
        // Two in-sync replicas of the two it keeps: not under-replicated.
        let f = DescribeFilters {
            under_replicated: true,
            ..Default::default()
        };
        assert!(describe_lines_reassigning(&t, &[], &[0, 1, 2], &f, &moving).is_empty());
    }

    #[test]
    fn empty_configs_leave_a_trailing_space_and_zero_id_is_omitted() {
        let mut t = topic();
        t.topic_id = [0; 16];
        let line = topic_line(&t, 1, &[]);
        assert_eq!(
            line,
            "Topic: vmc-topic\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: "
        );
    }

    #[test]
    fn partition_filters_suppress_the_summary() {
        let f = DescribeFilters {
            under_replicated: true,
            ..Default::default()
        };
        let lines = describe_lines(&topic(), &[], &[0], &f);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains("Partition: 0"));
        assert!(lines[1].contains("Partition: 2"));
        let f = DescribeFilters {
            unavailable: true,
            ..Default::default()
        };
        let lines = describe_lines(&topic(), &[], &[1], &f);
        assert_eq!(lines.len(), 3);
        let f = DescribeFilters {
            at_min_isr: true,
            ..Default::default()
        };
        let lines = describe_lines(&topic(), &[cfg("min.insync.replicas", "1", true)], &[0], &f);
        assert_eq!(lines.len(), 2);
        let f = DescribeFilters {
            under_min_isr: true,
            ..Default::default()
        };
        let lines = describe_lines(&topic(), &[cfg("min.insync.replicas", "1", true)], &[0], &f);
        assert_eq!(lines.len(), 1);
    }

    #[test]
    fn topics_with_overrides_prints_only_summaries_of_overridden_topics() {
        let f = DescribeFilters {
            topics_with_overrides: true,
            ..Default::default()
        };
        assert!(describe_lines(&topic(), &[cfg("a", "b", true)], &[0], &f).is_empty());
        let lines = describe_lines(&topic(), &[cfg("a", "b", false)], &[0], &f);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].ends_with("Configs: a=b"));
    }
}
