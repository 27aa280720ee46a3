//! Replica placement as Kafka 3.9 does it (`org.apache.kafka.admin.AdminUtils`): where the
//! replicas of new partitions go when the request names no brokers.
//!
//! Pure: the start of the round robin comes in as a [`Start`] (random for a new topic, Kafka's
//! fixed start index for new partitions of an existing one), so every placement can be checked
//! against Kafka's own expectations.

use std::collections::{BTreeMap, BTreeSet};

use super::{err, BrokerId, ServerError, ZkErrorCode};

/// One live broker as placement sees it: Kafka's `BrokerMetadata` (id and optional rack).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerMetadata {
    pub id: BrokerId,
    pub rack: Option<String>,
}

/// Where the round robin of `AdminUtils.assignReplicasToBrokers` starts: Kafka's `startIndex`
/// (the broker of partition 0's leader) and `nextReplicaShift` (how far the second replica is
/// from the first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Start {
    pub index: usize,
    pub shift: usize,
}

impl Start {
    /// Kafka's `fixedStartIndex`: both the start index and the replica shift take this value.
    pub fn fixed(index: usize) -> Start {
        Start {
            index,
            shift: index,
        }
    }

    /// Kafka's default: start index and replica shift each drawn at random below `brokers`.
    pub fn random(brokers: usize) -> Start {
        use rand::Rng as _;
        let mut rng = rand::thread_rng();
        let n = brokers.max(1);
        Start {
            index: rng.gen_range(0..n),
            shift: rng.gen_range(0..n),
        }
    }
}

/// Kafka's message when some live brokers have a rack and some do not (an
/// `AdminOperationException` from `assignReplicasToBrokersRackAware`).
pub const NOT_ALL_BROKERS_HAVE_RACK: &str =
    "Not all brokers have rack information for replica rack aware assignment.";

/// Kafka's `AdminUtils.assignReplicasToBrokers`: the replicas of partitions
/// `first_partition..first_partition + partitions`, leader first, over `brokers` (sorted by id,
/// as Kafka's `getBrokerMetadatas` sorts them).
///
/// Without racks: the leaders go round robin from `start.index`; the other replicas follow at a
/// shift that grows by one each time the partition id wraps around the brokers, so the pairs
/// vary. When every broker has a rack, the same round robin runs over Kafka's rack-alternated
/// broker list, and a follower is skipped while its rack (or the broker itself) already holds a
/// replica and some rack (or broker) holds none. Some brokers with a rack and some without is
/// Kafka's `AdminOperationException`, answered as an unexpected server error.
pub fn assign_replicas_to_brokers(
    brokers: &[BrokerMetadata],
    partitions: usize,
    replication_factor: usize,
    start: Start,
    first_partition: usize,
) -> Result<Vec<Vec<BrokerId>>, ServerError> {
    if partitions == 0 {
        return Err(err(
            ZkErrorCode::InvalidPartitions,
            "Number of partitions must be larger than 0.",
        ));
    }
    if replication_factor == 0 {
        return Err(err(
            ZkErrorCode::InvalidReplicationFactor,
            "Replication factor must be larger than 0.",
        ));
    }
    if replication_factor > brokers.len() {
        return Err(err(
            ZkErrorCode::InvalidReplicationFactor,
            format!(
                "Replication factor: {replication_factor} larger than available brokers: {}.",
                brokers.len()
            ),
        ));
    }
    if brokers.iter().all(|b| b.rack.is_none()) {
        let ids: Vec<BrokerId> = brokers.iter().map(|b| b.id).collect();
        return Ok(rack_unaware(
            &ids,
            partitions,
            replication_factor,
            start,
            first_partition,
        ));
    }
    let mut racks = BTreeMap::new();
    for b in brokers {
        match &b.rack {
            Some(rack) => racks.insert(b.id, rack.clone()),
            None => return Err(err(ZkErrorCode::Internal, NOT_ALL_BROKERS_HAVE_RACK)),
        };
    }
    rack_aware(
        &racks,
        partitions,
        replication_factor,
        start,
        first_partition,
    )
}

/// Kafka's `assignReplicasToBrokersRackUnaware`.
fn rack_unaware(
    brokers: &[BrokerId],
    partitions: usize,
    replication_factor: usize,
    start: Start,
    first_partition: usize,
) -> Vec<Vec<BrokerId>> {
    let n = brokers.len();
    let mut shift = start.shift;
    (first_partition..first_partition + partitions)
        .map(|partition| {
            if partition > 0 && partition % n == 0 {
                shift += 1;
            }
            let first = (partition + start.index) % n;
            let mut replicas = Vec::with_capacity(replication_factor);
            replicas.push(brokers[first]);
            for j in 0..replication_factor - 1 {
                replicas.push(brokers[replica_index(first, shift, j, n)]);
            }
            replicas
        })
        .collect()
}

/// Kafka's `assignReplicasToBrokersRackAware`.
fn rack_aware(
    racks: &BTreeMap<BrokerId, String>,
    partitions: usize,
    replication_factor: usize,
    start: Start,
    first_partition: usize,
) -> Result<Vec<Vec<BrokerId>>, ServerError> {
    let rack_count = racks.values().collect::<BTreeSet<_>>().len();
    let arranged = rack_alternated_broker_list(racks);
    let n = arranged.len();
    let mut shift = start.shift;
    let mut out = Vec::with_capacity(partitions);
    for partition in first_partition..first_partition + partitions {
        if partition > 0 && partition % n == 0 {
            shift += 1;
        }
        let first = (partition + start.index) % n;
        let leader = arranged[first];
        let mut replicas = vec![leader];
        let mut racks_with_replicas: BTreeSet<&str> = BTreeSet::new();
        racks_with_replicas.insert(rack_of(racks, leader));
        let mut brokers_with_replicas = BTreeSet::from([leader]);
        let mut k = 0;
        for _ in 0..replication_factor - 1 {
            // Within n - 1 steps `replica_index` visits every broker but the leader once, and a
            // rack with no replica yet has a broker with no replica yet: the search ends.
            let mut chosen = None;
            for _ in 0..n {
                let broker = arranged[replica_index(first, shift * rack_count, k, n)];
                k += 1;
                let rack = rack_of(racks, broker);
                // Skip a broker whose rack already has a replica while some rack has none, and
                // a broker that has a replica while some broker has none.
                if (!racks_with_replicas.contains(rack) || racks_with_replicas.len() == rack_count)
                    && (!brokers_with_replicas.contains(&broker)
                        || brokers_with_replicas.len() == n)
                {
                    chosen = Some((broker, rack));
                    break;
                }
            }
            let Some((broker, rack)) = chosen else {
                return Err(err(
                    ZkErrorCode::Internal,
                    format!("no broker left for a replica of partition {partition}"),
                ));
            };
            replicas.push(broker);
            racks_with_replicas.insert(rack);
            brokers_with_replicas.insert(broker);
        }
        out.push(replicas);
    }
    Ok(out)
}

fn rack_of(racks: &BTreeMap<BrokerId, String>, broker: BrokerId) -> &str {
    racks.get(&broker).map_or("", String::as_str)
}

/// Kafka's `getRackAlternatedBrokerList`: racks in name order, each rack's brokers in id order,
/// taken one rack at a time. Racks `a: 0 1 2`, `b: 3 4 5`, `c: 6 7 8` give 0 3 6 1 4 7 2 5 8.
pub fn rack_alternated_broker_list(racks: &BTreeMap<BrokerId, String>) -> Vec<BrokerId> {
    let mut by_rack: BTreeMap<&str, std::vec::IntoIter<BrokerId>> = BTreeMap::new();
    let mut lists: BTreeMap<&str, Vec<BrokerId>> = BTreeMap::new();
    for (&id, rack) in racks {
        lists.entry(rack.as_str()).or_default().push(id);
    }
    for (rack, ids) in lists {
        by_rack.insert(rack, ids.into_iter());
    }
    let mut out = Vec::with_capacity(racks.len());
    while out.len() < racks.len() {
        for ids in by_rack.values_mut() {
            if let Some(id) = ids.next() {
                out.push(id);
            }
        }
    }
    out
}

/// Kafka's `replicaIndex`: the broker of replica `j + 1`, counted from the leader's position.
fn replica_index(first: usize, shift: usize, j: usize, n: usize) -> usize {
    if n < 2 {
        return first;
    }
    (first + 1 + (shift + j) % (n - 1)) % n
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ids(list: &[i32]) -> Vec<BrokerId> {
        list.iter().copied().map(BrokerId).collect()
    }

    fn unracked(list: &[i32]) -> Vec<BrokerMetadata> {
        list.iter()
            .map(|&id| BrokerMetadata {
                id: BrokerId(id),
                rack: None,
            })
            .collect()
    }

    fn racked(list: &[(i32, &str)]) -> Vec<BrokerMetadata> {
        list.iter()
            .map(|&(id, rack)| BrokerMetadata {
                id: BrokerId(id),
                rack: Some(rack.to_string()),
            })
            .collect()
    }

    fn rack_map(list: &[(i32, &str)]) -> BTreeMap<BrokerId, String> {
        list.iter()
            .map(|&(id, rack)| (BrokerId(id), rack.to_string()))
            .collect()
    }

    fn as_lists(a: Vec<Vec<BrokerId>>) -> Vec<Vec<i32>> {
        a.into_iter()
            .map(|r| r.into_iter().map(BrokerId::get).collect())
            .collect()
    }

    /// Kafka's AdminRackAwareTest.testReplicaAssignment: five brokers without racks, ten
    /// partitions, three replicas, fixed start index 0.
    #[test]
    fn rack_unaware_placement_from_start_0_is_kafkas() {
        let a = assign_replicas_to_brokers(&unracked(&[0, 1, 2, 3, 4]), 10, 3, Start::fixed(0), 0);
        assert_eq!(
            as_lists(a.unwrap()),
            vec![
                vec![0, 1, 2],
                vec![1, 2, 3],
                vec![2, 3, 4],
                vec![3, 4, 0],
                vec![4, 0, 1],
                vec![0, 2, 3],
                vec![1, 3, 4],
                vec![2, 4, 0],
                vec![3, 0, 1],
                vec![4, 1, 2],
            ]
        );
    }

    /// Kafka's AdminRackAwareTest.testGetRackAlternatedBrokerListAndAssignReplicasToBrokers.
    #[test]
    fn rack_alternated_list_and_rack_aware_placement_from_start_0_are_kafkas() {
        let racks = [
            (0, "rack1"),
            (1, "rack3"),
            (2, "rack3"),
            (3, "rack2"),
            (4, "rack2"),
            (5, "rack1"),
        ];
        assert_eq!(
            rack_alternated_broker_list(&rack_map(&racks)),
            ids(&[0, 3, 1, 5, 4, 2])
        );
        assert_eq!(
            rack_alternated_broker_list(&rack_map(&racks[..5])),
            ids(&[0, 3, 1, 4, 2])
        );
        let a = assign_replicas_to_brokers(&racked(&racks), 7, 3, Start::fixed(0), 0);
        assert_eq!(
            as_lists(a.unwrap()),
            vec![
                vec![0, 3, 1],
                vec![3, 1, 5],
                vec![1, 5, 4],
                vec![5, 4, 2],
                vec![4, 2, 0],
                vec![2, 0, 3],
                // The second round shifts the followers instead of repeating partition 0.
                vec![0, 4, 2],
            ]
        );
    }

    /// Kafka's AdminRackAwareTest.testSkipBrokerWithReplicaAlreadyAssigned: more replicas than
    /// racks, so after every rack has one the followers go back to plain round robin, never
    /// onto a broker twice.
    #[test]
    fn more_replicas_than_racks_still_uses_each_broker_once() {
        let brokers = racked(&[(0, "a"), (1, "b"), (2, "c"), (3, "a"), (4, "a")]);
        let a = assign_replicas_to_brokers(&brokers, 6, 4, Start::fixed(2), 0).unwrap();
        for replicas in &a {
            assert_eq!(replicas.len(), 4);
            assert_eq!(replicas.iter().collect::<BTreeSet<_>>().len(), 4, "{a:?}");
            let racks: BTreeSet<_> = replicas
                .iter()
                .map(|b| brokers[b.get() as usize].rack.clone())
                .collect();
            assert_eq!(racks.len(), 3, "every rack holds a replica: {a:?}");
        }
    }

    #[test]
    fn refusals_carry_kafkas_texts() {
        let three = unracked(&[0, 1, 2]);
        let e = assign_replicas_to_brokers(&three, 1, 4, Start::fixed(0), 0).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                ZkErrorCode::InvalidReplicationFactor,
                "Replication factor: 4 larger than available brokers: 3."
            )
        );
        let e = assign_replicas_to_brokers(&three, 1, 0, Start::fixed(0), 0).unwrap_err();
        assert_eq!(e.message, "Replication factor must be larger than 0.");
        let e = assign_replicas_to_brokers(&three, 0, 1, Start::fixed(0), 0).unwrap_err();
        assert_eq!(e.message, "Number of partitions must be larger than 0.");
        let mut mixed = racked(&[(0, "rack1"), (1, "rack3"), (2, "rack3"), (3, "rack2")]);
        mixed.extend(unracked(&[4]));
        let e = assign_replicas_to_brokers(&mixed, 10, 5, Start::random(5), 0).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (ZkErrorCode::Internal, NOT_ALL_BROKERS_HAVE_RACK)
        );
    }

    /// Every combination of 1 to 6 brokers (ids that are not their positions), no racks or 1 to
    /// 6 racks laid out two ways, 1 to 13 partitions from partition 0 or 7, every replication
    /// factor and every start: the properties Kafka's placement promises.
    #[test]
    fn every_small_cluster_gets_a_balanced_rack_spread_placement() {
        const IDS: [i32; 6] = [1, 2, 4, 7, 11, 16];
        let mut checked = 0;
        for n in 1..=6 {
            let mut layouts: Vec<Option<Vec<usize>>> = vec![None];
            for r in 1..=n {
                layouts.push(Some((0..n).map(|i| i % r).collect()));
                layouts.push(Some((0..n).map(|i| i * r / n).collect()));
            }
            for layout in &layouts {
                let brokers: Vec<BrokerMetadata> = (0..n)
                    .map(|i| BrokerMetadata {
                        id: BrokerId(IDS[i]),
                        rack: layout.as_ref().map(|l| format!("rack-{}", l[i])),
                    })
                    .collect();
                let rack_of = |b: BrokerId| {
                    brokers
                        .iter()
                        .find(|m| m.id == b)
                        .map(|m| m.rack.clone())
                        .unwrap()
                };
                let rack_count = brokers
                    .iter()
                    .map(|b| &b.rack)
                    .collect::<BTreeSet<_>>()
                    .len();
                for partitions in 1..=13 {
                    for first_partition in [0, 7] {
                        for rf in 1..=n {
                            for index in 0..n {
                                for shift in 0..n {
                                    let start = Start { index, shift };
                                    let a = assign_replicas_to_brokers(
                                        &brokers,
                                        partitions,
                                        rf,
                                        start,
                                        first_partition,
                                    )
                                    .unwrap();
                                    let case = format!(
                                        "{n} brokers, racks {layout:?}, {partitions} partitions \
                                         from {first_partition}, rf {rf}, {start:?}: {a:?}"
                                    );
                                    assert_eq!(a.len(), partitions, "{case}");
                                    let mut leaders = BTreeMap::new();
                                    let mut replicas_on = BTreeMap::new();
                                    for replicas in &a {
                                        assert_eq!(replicas.len(), rf, "{case}");
                                        let distinct: BTreeSet<_> = replicas.iter().collect();
                                        assert_eq!(distinct.len(), rf, "no broker twice: {case}");
                                        *leaders.entry(replicas[0]).or_insert(0) += 1;
                                        for &b in replicas {
                                            *replicas_on.entry(b).or_insert(0) += 1;
                                        }
                                        if layout.is_some() {
                                            let racks: BTreeSet<_> =
                                                replicas.iter().map(|&b| rack_of(b)).collect();
                                            assert_eq!(
                                                racks.len(),
                                                rf.min(rack_count),
                                                "spread over racks first: {case}"
                                            );
                                        }
                                    }
                                    let lead = |b: &BrokerMetadata| {
                                        leaders.get(&b.id).copied().unwrap_or(0)
                                    };
                                    let most = brokers.iter().map(lead).max().unwrap();
                                    let least = brokers.iter().map(lead).min().unwrap();
                                    assert!(most - least <= 1, "leaders balanced: {case}");
                                    if partitions % n == 0 {
                                        assert_eq!(most, least, "leaders even: {case}");
                                    }
                                    // Without racks, whole rounds from partition 0 put the same
                                    // number of replicas on every broker.
                                    if layout.is_none()
                                        && first_partition == 0
                                        && partitions % n == 0
                                    {
                                        let each = partitions * rf / n;
                                        assert!(
                                            brokers
                                                .iter()
                                                .all(|b| replicas_on.get(&b.id) == Some(&each)),
                                            "replicas even: {case}"
                                        );
                                    }
                                    checked += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(checked > 50_000, "{checked}");
    }
}
