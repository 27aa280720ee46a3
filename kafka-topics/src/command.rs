//! `TopicService`: the five actions, over any [`TopicAdmin`], writing Kafka's output to `out`.

use std::collections::BTreeMap;
use std::io::Write;

use client::ClientError;

use crate::admin_port::{CreateRequest, TopicAdmin};
use crate::create_args::{parse_replica_assignment, parse_topic_configs};
use crate::describe::{
    describe_lines_reassigning, format_topic_id, parse_topic_id, DescribeFilters,
    TopicReassignments,
};
use crate::errors::CommandError;
use crate::options::{Action, TopicOptions};
use crate::topic_filter::{select_topics, IncludeList};

pub async fn run<A: TopicAdmin>(
    admin: &A,
    opts: &TopicOptions,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    match opts.action {
        Action::Create => create(admin, opts, out).await,
        Action::List => list(admin, opts, out).await,
        Action::Describe => describe(admin, opts, out).await,
        Action::Alter => alter(admin, opts).await,
        Action::Delete => delete(admin, opts).await,
    }
}

fn write_line(out: &mut dyn Write, line: &str) -> Result<(), CommandError> {
    writeln!(out, "{line}").map_err(|e| CommandError {
        exception: "java.io.IOException".into(),
        message: e.to_string(),
    })
}

async fn create<A: TopicAdmin>(
    admin: &A,
    opts: &TopicOptions,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let name = opts.topic.clone().unwrap_or_default();
    let assignment = match &opts.replica_assignment {
        Some(raw) => Some(parse_replica_assignment(raw).map_err(CommandError::illegal)?),
        None => None,
    };
    let configs = parse_topic_configs(&opts.configs).map_err(CommandError::illegal)?;
    if common::topic::has_collision_chars(&name) {
        write_line(out, "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.")?;
    }
    if let Some(rf) = opts.replication_factor {
        if !(1..=i32::from(i16::MAX)).contains(&rf) {
            return Err(CommandError::illegal(
                "The replication factor must be between 1 and 32767 inclusive",
            ));
        }
    }
    if opts.partitions.is_some_and(|p| p < 1) {
        return Err(CommandError::illegal(
            "The partitions must be greater than 0",
        ));
    }
    let request = CreateRequest {
        name: name.clone(),
        partitions: if assignment.is_some() {
            None
        } else {
            opts.partitions
        },
        replication_factor: if assignment.is_some() {
            None
        } else {
            opts.replication_factor
                .and_then(|rf| i16::try_from(rf).ok())
        },
        replica_assignment: assignment,
        configs,
    };
    match admin.create_topic(request).await {
        Ok(()) => write_line(out, &format!("Created topic {name}.")),
        Err(e)
            if e.code() == Some(common::errors::codes::TOPIC_ALREADY_EXISTS)
                && opts.if_not_exists =>
        {
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// `getTopics`: the sorted names matching `--topic` (a regex), minus internal ones if asked.
async fn get_topics<A: TopicAdmin>(
    admin: &A,
    opts: &TopicOptions,
) -> Result<Vec<String>, CommandError> {
    let include = match opts.topic.as_deref() {
        Some(raw) => Some(IncludeList::new(raw).map_err(CommandError::illegal)?),
        None => None,
    };
    let all = admin.list_topics().await?;
    Ok(select_topics(all, include.as_ref(), opts.exclude_internal))
}

/// `ensureTopicExists`. The name is printed as given (not Kafka 3.9's `Optional[..]` quirk).
fn ensure_topic_exists(found: &[String], opts: &TopicOptions) -> Result<(), CommandError> {
    match opts.topic.as_deref() {
        Some(t) if !t.is_empty() && !opts.if_exists && found.is_empty() => Err(
            CommandError::illegal(format!("Topic '{t}' does not exist as expected")),
        ),
        _ => Ok(()),
    }
}

async fn list<A: TopicAdmin>(
    admin: &A,
    opts: &TopicOptions,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let topics = get_topics(admin, opts).await?;
    write_line(out, &topics.join("\n"))
}

async fn describe<A: TopicAdmin>(
    admin: &A,
    opts: &TopicOptions,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let topic_id = match opts.topic_id.as_deref() {
        Some(raw) => {
            Some(parse_topic_id(raw).map_err(CommandError::illegal)?).filter(|id| *id != [0u8; 16])
        }
        None => None,
    };
    let mut descriptions = match topic_id {
        Some(id) => {
            let all: Vec<String> =
                select_topics(admin.list_topics().await?, None, opts.exclude_internal);
            let described = if all.is_empty() {
                Vec::new()
            } else {
                admin.describe_topics(&all).await?
            };
            let found: Vec<_> = described.into_iter().filter(|t| t.topic_id == id).collect();
            if found.is_empty() && !opts.if_exists {
                return Err(CommandError::illegal(format!(
                    "TopicId '{}' does not exist as expected",
                    format_topic_id(&id)
                )));
            }
            found
        }
        None => {
            let topics = get_topics(admin, opts).await?;
            ensure_topic_exists(&topics, opts)?;
            if topics.is_empty() {
                Vec::new()
            } else {
                admin.describe_topics(&topics).await?
            }
        }
    };
    if descriptions.is_empty() {
        return Ok(());
    }
    descriptions.sort_by(|a, b| a.name.cmp(&b.name));
    let live = admin.live_broker_ids().await?;
    let filters = DescribeFilters {
        under_replicated: opts.under_replicated,
        unavailable: opts.unavailable,
        under_min_isr: opts.under_min_isr,
        at_min_isr: opts.at_min_isr,
        topics_with_overrides: opts.topics_with_overrides,
    };
    // Kafka's `listAllReassignments`: a cluster that cannot list them has none to show.
    let partitions: Vec<(String, i32)> = descriptions
        .iter()
        .flat_map(|t| t.partitions.iter().map(|p| (t.name.clone(), p.partition)))
        .collect();
    let reassignments = match admin.list_partition_reassignments(&partitions).await {
        Ok(r) => r,
        Err(ClientError::UnsupportedVersion(_)) => BTreeMap::new(),
        Err(e) => return Err(e.into()),
    };
    for topic in &descriptions {
        let configs = admin.describe_topic_configs(&topic.name).await?;
        let moving: TopicReassignments = reassignments
            .iter()
            .filter(|((t, _), _)| *t == topic.name)
            .map(|((_, p), r)| (*p, r.clone()))
            .collect();
        for line in describe_lines_reassigning(topic, &configs, &live, &filters, &moving) {
            write_line(out, &line)?;
        }
    }
    Ok(())
}

async fn alter<A: TopicAdmin>(admin: &A, opts: &TopicOptions) -> Result<(), CommandError> {
    let assignment = match &opts.replica_assignment {
        Some(raw) => Some(parse_replica_assignment(raw).map_err(CommandError::illegal)?),
        None => None,
    };
    parse_topic_configs(&opts.configs).map_err(CommandError::illegal)?;
    let topics = get_topics(admin, opts).await?;
    ensure_topic_exists(&topics, opts)?;
    if topics.is_empty() {
        return Ok(());
    }
    let total = opts.partitions.unwrap_or_default();
    let current = match assignment {
        Some(_) => admin.describe_topics(&topics).await?,
        None => Vec::new(),
    };
    for topic in &topics {
        // Kafka's --replica-assignment on alter lists every partition; the new ones follow the
        // existing count.
        let new_assignment = assignment.as_ref().map(|all| {
            let existing = current
                .iter()
                .find(|t| &t.name == topic)
                .map_or(0, |t| t.partitions.len());
            all.iter().skip(existing).cloned().collect::<Vec<_>>()
        });
        admin
            .create_partitions(topic, total, new_assignment)
            .await?;
    }
    Ok(())
}

async fn delete<A: TopicAdmin>(admin: &A, opts: &TopicOptions) -> Result<(), CommandError> {
    let topics = get_topics(admin, opts).await?;
    ensure_topic_exists(&topics, opts)?;
    for topic in &topics {
        admin.delete_topic(topic).await?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::describe::{ConfigView, PartitionView, TopicView};
    use crate::options::parse_args;
    use client::ClientError;
    use std::cell::RefCell;

    /// An in-memory cluster with one broker (id 0).
    #[derive(Default)]
    struct FakeAdmin {
        topics: RefCell<Vec<TopicView>>,
        configs: RefCell<Vec<(String, Vec<ConfigView>)>>,
    }

    impl TopicAdmin for FakeAdmin {
        async fn list_topics(&self) -> Result<Vec<(String, bool)>, ClientError> {
            Ok(self
                .topics
                .borrow()
                .iter()
                .map(|t| (t.name.clone(), t.name.starts_with("__")))
                .collect())
        }
        async fn create_topic(&self, r: CreateRequest) -> Result<(), ClientError> {
            if self.topics.borrow().iter().any(|t| t.name == r.name) {
                return Err(ClientError::kafka(
                    36,
                    Some(&format!("Topic '{}' already exists.", r.name)),
                ));
            }
            if r.replication_factor.unwrap_or(1) > 1 {
                return Err(ClientError::kafka(
                    38,
                    Some(&format!(
                        "Replication factor: {} larger than available brokers: 1.",
                        r.replication_factor.unwrap_or(1)
                    )),
                ));
            }
            let n = r.partitions.unwrap_or(1);
            let partitions = (0..n)
                .map(|p| PartitionView {
                    partition: p,
                    leader: Some(0),
                    replicas: vec![0],
                    isr: vec![0],
                })
                .collect();
            let mut id = [0u8; 16];
            id[0] = self.topics.borrow().len() as u8 + 1;
            self.topics.borrow_mut().push(TopicView {
                name: r.name.clone(),
                topic_id: id,
                partitions,
            });
            let configs = r
                .configs
                .iter()
                .map(|(k, v)| ConfigView {
                    name: k.clone(),
                    value: Some(v.clone()),
                    is_default: false,
                })
                .collect();
            self.configs.borrow_mut().push((r.name, configs));
            Ok(())
        }
        async fn delete_topic(&self, name: &str) -> Result<(), ClientError> {
            self.topics.borrow_mut().retain(|t| t.name != name);
            Ok(())
        }
        async fn create_partitions(
            &self,
            name: &str,
            total: i32,
            _a: Option<Vec<Vec<i32>>>,
        ) -> Result<(), ClientError> {
            let mut topics = self.topics.borrow_mut();
            let t = topics
                .iter_mut()
                .find(|t| t.name == name)
                .ok_or_else(|| ClientError::kafka(3, None))?;
            let current = t.partitions.len() as i32;
            if total < current {
                return Err(ClientError::kafka(37, Some(&format!("Topic currently has {current} partitions, which is higher than the requested {total}."))));
            }
            if total == current {
                return Err(ClientError::kafka(
                    37,
                    Some(&format!("Topic already has {current} partitions.")),
                ));
            }
            for p in current..total {
                t.partitions.push(PartitionView {
                    partition: p,
                    leader: Some(0),
                    replicas: vec![0],
                    isr: vec![0],
                });
            }
            Ok(())
        }
        async fn describe_topics(&self, names: &[String]) -> Result<Vec<TopicView>, ClientError> {
            Ok(self
                .topics
                .borrow()
                .iter()
                .filter(|t| names.contains(&t.name))
                .cloned()
                .collect())
        }
        async fn describe_topic_configs(&self, name: &str) -> Result<Vec<ConfigView>, ClientError> {
            Ok(self
                .configs
                .borrow()
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, c)| c.clone())
                .unwrap_or_default())
        }
        async fn live_broker_ids(&self) -> Result<Vec<i32>, ClientError> {
            Ok(vec![0])
        }
    }

    fn exec(admin: &FakeAdmin, args: &[&str]) -> (Result<(), CommandError>, String) {
        let mut full = vec![
            "--bootstrap-server".to_string(),
            "localhost:9092".to_string(),
        ];
        full.extend(args.iter().map(|s| s.to_string()));
        let opts = parse_args(&full).expect("valid options");
        let mut out = Vec::new();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let result = rt.block_on(run(admin, &opts, &mut out));
        (result, String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn quickstart_create_list_describe() {
        let admin = FakeAdmin::default();
        let (r, out) = exec(
            &admin,
            &[
                "--create",
                "--topic",
                "vmc-topic",
                "-partitions",
                "3",
                "--replication-factor",
                "1",
            ],
        );
        assert!(r.is_ok());
        assert_eq!(out, "Created topic vmc-topic.\n");
        let (_, out) = exec(&admin, &["--list"]);
        assert_eq!(out, "vmc-topic\n");
        let (_, out) = exec(&admin, &["--describe", "--topic", "vmc-topic"]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "Topic: vmc-topic\tTopicId: AQAAAAAAAAAAAAAAAAAAAA\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: ");
        assert_eq!(lines[1], "\tTopic: vmc-topic\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: N/A\tLastKnownElr: N/A");
    }

    #[test]
    fn empty_cluster_lists_an_empty_line() {
        let (_, out) = exec(&FakeAdmin::default(), &["--list"]);
        assert_eq!(out, "\n");
    }

    #[test]
    fn create_existing_topic_fails_unless_if_not_exists() {
        let admin = FakeAdmin::default();
        exec(&admin, &["--create", "--topic", "t"]).0.unwrap();
        let (r, _) = exec(&admin, &["--create", "--topic", "t"]);
        assert_eq!(
            r.unwrap_err().stdout_line(),
            "Error while executing topic command : Topic 't' already exists."
        );
        let (r, out) = exec(&admin, &["--create", "--topic", "t", "--if-not-exists"]);
        assert!(r.is_ok());
        assert_eq!(out, "");
    }

    #[test]
    fn create_warns_about_collision_chars_and_checks_numbers() {
        let admin = FakeAdmin::default();
        let (_, out) = exec(&admin, &["--create", "--topic", "a.b"]);
        assert!(out.starts_with("WARNING: Due to limitations in metric names"));
        assert!(out.ends_with("Created topic a.b.\n"));
        let (r, _) = exec(&admin, &["--create", "--topic", "x", "--partitions", "0"]);
        assert_eq!(
            r.unwrap_err().message,
            "The partitions must be greater than 0"
        );
        let (r, _) = exec(
            &admin,
            &["--create", "--topic", "x", "--replication-factor", "40000"],
        );
        assert_eq!(
            r.unwrap_err().message,
            "The replication factor must be between 1 and 32767 inclusive"
        );
        let (r, _) = exec(
            &admin,
            &["--create", "--topic", "x", "--config", "retention.ms"],
        );
        assert!(r
            .unwrap_err()
            .message
            .starts_with("requirement failed: Invalid topic config"));
    }

    #[test]
    fn missing_topic_errors_print_the_plain_name() {
        let admin = FakeAdmin::default();
        for action in ["--describe", "--delete"] {
            let (r, _) = exec(&admin, &[action, "--topic", "foo"]);
            assert_eq!(
                r.unwrap_err().message,
                "Topic 'foo' does not exist as expected"
            );
            let (r, out) = exec(&admin, &[action, "--topic", "foo", "--if-exists"]);
            assert!(r.is_ok());
            assert_eq!(out, "");
        }
        let (r, _) = exec(&admin, &["--alter", "--topic", "foo", "--partitions", "2"]);
        assert_eq!(
            r.unwrap_err().message,
            "Topic 'foo' does not exist as expected"
        );
    }

    #[test]
    fn regex_topic_selects_for_delete_and_alter() {
        let admin = FakeAdmin::default();
        for t in ["a1", "a2", "b1"] {
            exec(&admin, &["--create", "--topic", t]).0.unwrap();
        }
        exec(&admin, &["--alter", "--topic", "a.*", "--partitions", "2"])
            .0
            .unwrap();
        let (_, out) = exec(&admin, &["--describe", "--topic", "a1,b1"]);
        assert!(out.contains("Topic: a1\tTopicId"));
        assert!(out.contains("PartitionCount: 2"));
        assert!(out.contains("Topic: b1\tTopicId"));
        let (r, out) = exec(&admin, &["--delete", "--topic", "a.*"]);
        assert!(r.is_ok());
        assert_eq!(out, "");
        let (_, out) = exec(&admin, &["--list"]);
        assert_eq!(out, "b1\n");
        let (r, _) = exec(&admin, &["--alter", "--topic", "b1", "--partitions", "1"]);
        assert_eq!(r.unwrap_err().message, "Topic already has 1 partitions.");
    }

    #[test]
    fn topics_with_overrides_and_configs_line() {
        let admin = FakeAdmin::default();
        exec(&admin, &["--create", "--topic", "plain"]).0.unwrap();
        exec(
            &admin,
            &[
                "--create",
                "--topic",
                "over",
                "--config",
                "retention.ms=1000",
            ],
        )
        .0
        .unwrap();
        let (_, out) = exec(&admin, &["--describe", "--topics-with-overrides"]);
        assert_eq!(out.lines().count(), 1);
        assert!(out.starts_with("Topic: over\t"));
        assert!(out.trim_end().ends_with("Configs: retention.ms=1000"));
    }

    #[test]
    fn describe_by_topic_id() {
        let admin = FakeAdmin::default();
        exec(&admin, &["--create", "--topic", "t"]).0.unwrap();
        let (_, out) = exec(
            &admin,
            &["--describe", "--topic-id", "AQAAAAAAAAAAAAAAAAAAAA"],
        );
        assert!(out.starts_with("Topic: t\t"));
        let (r, _) = exec(
            &admin,
            &["--describe", "--topic-id", "AgAAAAAAAAAAAAAAAAAAAA"],
        );
        assert_eq!(
            r.unwrap_err().message,
            "TopicId 'AgAAAAAAAAAAAAAAAAAAAA' does not exist as expected"
        );
    }
}
