//! The group leader's partition assignors, computing exactly what Kafka's `RangeAssignor` and
//! `RoundRobinAssignor` compute (without racks), so a group led by us splits partitions the way a
//! group led by a Java consumer would. Pure.

use std::collections::{BTreeMap, BTreeSet};

/// A member as the assignors see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSubscription {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub topics: Vec<String>,
}

/// Assignor names as `partition.assignment.strategy` and the JoinGroup protocols spell them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignor {
    Range,
    RoundRobin,
}

impl Assignor {
    pub fn name(self) -> &'static str {
        match self {
            Assignor::Range => "range",
            Assignor::RoundRobin => "roundrobin",
        }
    }

    /// From a protocol name or a Java class name (`org.apache.kafka.clients.consumer.RangeAssignor`).
    pub fn from_name(s: &str) -> Option<Assignor> {
        match s.trim() {
            "range" | "org.apache.kafka.clients.consumer.RangeAssignor" => Some(Assignor::Range),
            "roundrobin" | "org.apache.kafka.clients.consumer.RoundRobinAssignor" => {
                Some(Assignor::RoundRobin)
            }
            _ => None,
        }
    }

    /// Member id -> (topic -> partitions). Every member gets an entry, possibly empty.
    /// `partitions_per_topic` holds the partition counts of the topics that exist; subscribed
    /// topics missing from it are skipped.
    pub fn assign(
        self,
        partitions_per_topic: &BTreeMap<String, i32>,
        members: &[MemberSubscription],
    ) -> BTreeMap<String, BTreeMap<String, Vec<i32>>> {
        match self {
            Assignor::Range => range(partitions_per_topic, members),
            Assignor::RoundRobin => round_robin(partitions_per_topic, members),
        }
    }
}

/// Kafka's `MemberInfo` order: members with a group.instance.id first, by that id; the rest by
/// member id.
fn sorted_members(members: &[MemberSubscription]) -> Vec<&MemberSubscription> {
    let mut v: Vec<&MemberSubscription> = members.iter().collect();
    v.sort_by(|a, b| match (&a.group_instance_id, &b.group_instance_id) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.member_id.cmp(&b.member_id),
    });
    v
}

fn empty_result(members: &[MemberSubscription]) -> BTreeMap<String, BTreeMap<String, Vec<i32>>> {
    members
        .iter()
        .map(|m| (m.member_id.clone(), BTreeMap::new()))
        .collect()
}

/// Per topic, the sorted subscribers split the partitions into contiguous ranges; the first
/// `partitions % members` subscribers get one extra.
fn range(
    partitions_per_topic: &BTreeMap<String, i32>,
    members: &[MemberSubscription],
) -> BTreeMap<String, BTreeMap<String, Vec<i32>>> {
    let mut out = empty_result(members);
    let sorted = sorted_members(members);
    let topics: BTreeSet<&String> = members.iter().flat_map(|m| m.topics.iter()).collect();
    for topic in topics {
        let Some(&count) = partitions_per_topic.get(topic) else {
            continue;
        };
        let subscribers: Vec<&&MemberSubscription> =
            sorted.iter().filter(|m| m.topics.contains(topic)).collect();
        if subscribers.is_empty() || count <= 0 {
            continue;
        }
        let n = subscribers.len() as i32;
        let per = count / n;
        let extra = count % n;
        for (i, m) in subscribers.iter().enumerate() {
            let i = i as i32;
            let start = per * i + i.min(extra);
            let len = per + i32::from(i < extra);
            if len == 0 {
                continue;
            }
            if let Some(entry) = out.get_mut(&m.member_id) {
                entry.insert(topic.clone(), (start..start + len).collect());
            }
        }
    }
    out
}

/// All partitions of all subscribed topics, sorted by topic then partition, dealt one by one to
/// the sorted members in a circle, skipping members not subscribed to the partition's topic.
fn round_robin(
    partitions_per_topic: &BTreeMap<String, i32>,
    members: &[MemberSubscription],
) -> BTreeMap<String, BTreeMap<String, Vec<i32>>> {
    let mut out = empty_result(members);
    let sorted = sorted_members(members);
    if sorted.is_empty() {
        return out;
    }
    let topics: BTreeSet<&String> = members.iter().flat_map(|m| m.topics.iter()).collect();
    let mut next = 0usize;
    for topic in topics {
        let Some(&count) = partitions_per_topic.get(topic) else {
            continue;
        };
        for partition in 0..count.max(0) {
            // Someone subscribes to every topic in the set, so this finds a member within one turn.
            let mut found = None;
            for step in 0..sorted.len() {
                let i = (next + step) % sorted.len();
                if sorted[i].topics.contains(topic) {
                    found = Some(i);
                    break;
                }
            }
            let Some(i) = found else {
                continue;
            };
            next = (i + 1) % sorted.len();
            if let Some(entry) = out.get_mut(&sorted[i].member_id) {
                entry.entry(topic.clone()).or_default().push(partition);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, topics: &[&str]) -> MemberSubscription {
        MemberSubscription {
            member_id: id.to_string(),
            group_instance_id: None,
            topics: topics.iter().map(|t| t.to_string()).collect(),
        }
    }

    fn counts(list: &[(&str, i32)]) -> BTreeMap<String, i32> {
        list.iter().map(|(t, n)| (t.to_string(), *n)).collect()
    }

    fn of(
        result: &BTreeMap<String, BTreeMap<String, Vec<i32>>>,
        member: &str,
        topic: &str,
    ) -> Vec<i32> {
        result
            .get(member)
            .and_then(|m| m.get(topic))
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn range_gives_the_first_members_the_extra_partitions() {
        // Kafka's RangeAssignor javadoc: t0 and t1 with 3 partitions each, C0 and C1.
        let members = [member("C0", &["t0", "t1"]), member("C1", &["t0", "t1"])];
        let r = Assignor::Range.assign(&counts(&[("t0", 3), ("t1", 3)]), &members);
        assert_eq!(of(&r, "C0", "t0"), vec![0, 1]);
        assert_eq!(of(&r, "C0", "t1"), vec![0, 1]);
        assert_eq!(of(&r, "C1", "t0"), vec![2]);
        assert_eq!(of(&r, "C1", "t1"), vec![2]);
    }

    #[test]
    fn range_with_more_members_than_partitions_leaves_the_last_idle() {
        let members = [
            member("d", &["t"]),
            member("a", &["t"]),
            member("c", &["t"]),
            member("b", &["t"]),
        ];
        let r = Assignor::Range.assign(&counts(&[("t", 3)]), &members);
        assert_eq!(of(&r, "a", "t"), vec![0]);
        assert_eq!(of(&r, "b", "t"), vec![1]);
        assert_eq!(of(&r, "c", "t"), vec![2]);
        assert!(r.get("d").is_some_and(|m| m.is_empty()));
    }

    #[test]
    fn round_robin_deals_across_topics_in_member_order() {
        // Kafka's RoundRobinAssignor javadoc: C0 and C1 subscribe t0, t1 (3 partitions each).
        let members = [member("C1", &["t0", "t1"]), member("C0", &["t0", "t1"])];
        let r = Assignor::RoundRobin.assign(&counts(&[("t0", 3), ("t1", 3)]), &members);
        assert_eq!(of(&r, "C0", "t0"), vec![0, 2]);
        assert_eq!(of(&r, "C0", "t1"), vec![1]);
        assert_eq!(of(&r, "C1", "t0"), vec![1]);
        assert_eq!(of(&r, "C1", "t1"), vec![0, 2]);
    }

    #[test]
    fn round_robin_skips_members_not_subscribed() {
        // The javadoc's uneven example: C0 [t0], C1 [t0, t1], C2 [t0, t1, t2];
        // t0 has 1 partition, t1 2, t2 3.
        let members = [
            member("C0", &["t0"]),
            member("C1", &["t0", "t1"]),
            member("C2", &["t0", "t1", "t2"]),
        ];
        let r = Assignor::RoundRobin.assign(&counts(&[("t0", 1), ("t1", 2), ("t2", 3)]), &members);
        assert_eq!(of(&r, "C0", "t0"), vec![0]);
        assert_eq!(of(&r, "C1", "t1"), vec![0]);
        assert_eq!(of(&r, "C2", "t1"), vec![1]);
        assert_eq!(of(&r, "C2", "t2"), vec![0, 1, 2]);
    }

    #[test]
    fn static_members_sort_before_dynamic_ones() {
        let mut s = member("z", &["t"]);
        s.group_instance_id = Some("i".to_string());
        let members = [member("a", &["t"]), s];
        let r = Assignor::Range.assign(&counts(&[("t", 1)]), &members);
        assert_eq!(of(&r, "z", "t"), vec![0]);
        assert!(of(&r, "a", "t").is_empty());
    }

    #[test]
    fn unknown_topics_are_skipped() {
        let members = [member("a", &["gone"])];
        let r = Assignor::RoundRobin.assign(&counts(&[]), &members);
        assert!(r.get("a").is_some_and(|m| m.is_empty()));
        assert!(
            Assignor::from_name("org.apache.kafka.clients.consumer.RangeAssignor")
                .is_some_and(|a| a == Assignor::Range)
        );
        assert!(Assignor::from_name("cooperative-sticky").is_none());
    }
}
