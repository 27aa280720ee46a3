//! The tables kafka-consumer-groups prints, with the column widths of Kafka's format strings
//! (`ConsumerGroupCommand.java`) and the intended line layout: a blank line, the header, then
//! one line per row (3.9.0's Java port lost the newlines; apache/kafka PR #17058 restored them).
//! Pure: each function returns the text to print. The columns are laid out by
//! [`cli::table::kafka_table`], one [`Width`] per `%-Ns`/`%s` of Kafka's format string.

use cli::table::{kafka_table, Column, Width};

/// What Kafka prints for a missing value.
pub const MISSING: &str = "-";

/// One row of the `--describe --offsets` table (`PartitionAssignmentState`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetRow {
    pub group: String,
    pub topic: Option<String>,
    pub partition: Option<i32>,
    pub current_offset: Option<i64>,
    pub log_end_offset: Option<i64>,
    pub consumer_id: Option<String>,
    pub host: Option<String>,
    pub client_id: Option<String>,
}

impl OffsetRow {
    /// LOG-END-OFFSET - CURRENT-OFFSET when both are known.
    pub fn lag(&self) -> Option<i64> {
        match (self.current_offset, self.log_end_offset) {
            (Some(c), Some(e)) if c >= 0 => Some(e - c),
            _ => None,
        }
    }
}

/// One row of `--describe --members` (`MemberAssignmentState`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    pub group: String,
    pub consumer_id: String,
    /// Empty when the member has none.
    pub group_instance_id: String,
    pub host: String,
    pub client_id: String,
    pub assignment: Vec<(String, i32)>,
}

/// `--describe --state` of one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateRow {
    pub group: String,
    pub coordinator_host: String,
    pub coordinator_port: i32,
    pub coordinator_id: i32,
    pub assignment_strategy: String,
    pub state: String,
    pub members: usize,
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| MISSING.to_string(), ToString::to_string)
}

/// Kafka's blank line before a table.
fn after_blank_line(table: String) -> String {
    format!("\n{table}")
}

/// `--describe` (offsets): `"%-Gs %-Ts %-10s %-15s %-15s %-15s %-Cs %-Hs %s"`, where G, T, C and H
/// are max(15, longest value).
pub fn offsets_table(rows: &[OffsetRow]) -> String {
    let columns = [
        Column::new("GROUP", Width::AtLeast(15)),
        Column::new("TOPIC", Width::AtLeast(15)),
        Column::new("PARTITION", Width::Fixed(10)),
        Column::new("CURRENT-OFFSET", Width::Fixed(15)),
        Column::new("LOG-END-OFFSET", Width::Fixed(15)),
        Column::new("LAG", Width::Fixed(15)),
        Column::new("CONSUMER-ID", Width::AtLeast(15)),
        Column::new("HOST", Width::AtLeast(15)),
        Column::new("CLIENT-ID", Width::Unpadded),
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.group.clone(),
                opt(&r.topic),
                opt(&r.partition),
                opt(&r.current_offset),
                opt(&r.log_end_offset),
                opt(&r.lag()),
                opt(&r.consumer_id),
                opt(&r.host),
                opt(&r.client_id),
            ]
        })
        .collect();
    after_blank_line(kafka_table(&columns, &cells))
}

/// `t1(0,1), t2(2)`: partitions grouped by topic, each list sorted, the groups sorted; `-` when
/// the member has none.
pub fn assignment_text(assignment: &[(String, i32)]) -> String {
    if assignment.is_empty() {
        return MISSING.to_string();
    }
    let mut topics: Vec<(String, Vec<i32>)> = Vec::new();
    for (t, p) in assignment {
        match topics.iter_mut().find(|(name, _)| name == t) {
            Some((_, ps)) => ps.push(*p),
            None => topics.push((t.clone(), vec![*p])),
        }
    }
    let mut parts: Vec<String> = topics
        .into_iter()
        .map(|(t, mut ps)| {
            ps.sort_unstable();
            let list: Vec<String> = ps.iter().map(i32::to_string).collect();
            format!("{t}({})", list.join(","))
        })
        .collect();
    parts.sort();
    parts.join(", ")
}

/// `--describe --members [--verbose]`: `"%-Gs %-Cs [%-Is ]%-Hs %-Ls %-15s "`, then `%s` of the
/// assignment when verbose. The widths are max(15, longest value), max(17, ...) for
/// GROUP-INSTANCE-ID, which is shown only when some member has one.
pub fn members_table(rows: &[MemberRow], verbose: bool) -> String {
    let with_instance = rows.iter().any(|r| !r.group_instance_id.is_empty());
    let mut columns = vec![
        Column::new("GROUP", Width::AtLeast(15)),
        Column::new("CONSUMER-ID", Width::AtLeast(15)),
    ];
    if with_instance {
        columns.push(Column::new("GROUP-INSTANCE-ID", Width::AtLeast(17)));
    }
    columns.extend([
        Column::new("HOST", Width::AtLeast(15)),
        Column::new("CLIENT-ID", Width::AtLeast(15)),
        Column::new("#PARTITIONS", Width::Fixed(15)),
        // Without --verbose the format still ends in the space after #PARTITIONS.
        Column::new(if verbose { "ASSIGNMENT" } else { "" }, Width::Unpadded),
    ]);
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut line = vec![r.group.clone(), r.consumer_id.clone()];
            if with_instance {
                line.push(r.group_instance_id.clone());
            }
            line.extend([
                r.host.clone(),
                r.client_id.clone(),
                r.assignment.len().to_string(),
                if verbose {
                    assignment_text(&r.assignment)
                } else {
                    String::new()
                },
            ]);
            line
        })
        .collect();
    after_blank_line(kafka_table(&columns, &cells))
}

/// `--describe --state`: `"\n%-Ws %-25s %-20s %-15s %s"` for the header and the row, W =
/// max(25, coordinator text) — Kafka sizes the GROUP column by the coordinator's text.
pub fn state_table(s: &StateRow) -> String {
    let coordinator = format!(
        "{}:{}  ({})",
        s.coordinator_host, s.coordinator_port, s.coordinator_id
    );
    let columns = [
        Column::new("GROUP", Width::Fixed(coordinator.chars().count().max(25))),
        Column::new("COORDINATOR (ID)", Width::Fixed(25)),
        Column::new("ASSIGNMENT-STRATEGY", Width::Fixed(20)),
        Column::new("STATE", Width::Fixed(15)),
        Column::new("#MEMBERS", Width::Unpadded),
    ];
    let row = vec![
        s.group.clone(),
        coordinator,
        s.assignment_strategy.clone(),
        s.state.clone(),
        s.members.to_string(),
    ];
    // Kafka starts each of the two lines with `\n` and ends neither; this is the same text
    // with the final newline the intended layout adds.
    after_blank_line(kafka_table(&columns, &[row]))
}

/// `--list --state/--type`: GROUP padded to max(15, longest id) + 10, then ` %-20s` per column.
/// `rows` are (group, type, state); a column is printed when its flag is set.
pub fn list_table(
    rows: &[(String, String, String)],
    include_type: bool,
    include_state: bool,
) -> String {
    let longest = rows
        .iter()
        .map(|r| r.0.chars().count())
        .fold(15, usize::max);
    let mut columns = vec![Column::new("GROUP", Width::Fixed(longest + 10))];
    if include_type {
        columns.push(Column::new("TYPE", Width::Fixed(20)));
    }
    if include_state {
        columns.push(Column::new("STATE", Width::Fixed(20)));
    }
    let cells: Vec<Vec<&str>> = rows
        .iter()
        .map(|(group, ty, state)| {
            let mut line = vec![group.as_str()];
            if include_type {
                line.push(ty);
            }
            if include_state {
                line.push(state);
            }
            line
        })
        .collect();
    kafka_table(&columns, &cells)
}

/// `--reset-offsets` plan: `%-30s %-30s %-10s %-15s`. Nothing when no group was processed.
pub fn reset_table(rows: &[(String, String, i32, i64)], any_group: bool) -> String {
    if !any_group {
        return String::new();
    }
    let columns = [
        Column::new("GROUP", Width::Fixed(30)),
        Column::new("TOPIC", Width::Fixed(30)),
        Column::new("PARTITION", Width::Fixed(10)),
        Column::new("NEW-OFFSET", Width::Fixed(15)),
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|(g, t, p, o)| vec![g.clone(), t.clone(), p.to_string(), o.to_string()])
        .collect();
    after_blank_line(kafka_table(&columns, &cells))
}

/// `--reset-offsets --export`: `group,topic,partition,offset` lines (topic,partition,offset for
/// a single group), as Kafka's `exportOffsetsToCsv`.
pub fn reset_csv(rows: &[(String, String, i32, i64)], single_group: bool) -> String {
    let mut out = String::new();
    for (g, t, p, o) in rows {
        if single_group {
            out.push_str(&format!("{t},{p},{o}\n"));
        } else {
            out.push_str(&format!("{g},{t},{p},{o}\n"));
        }
    }
    out
}

/// `--delete-offsets` result: `%-30s %-15s %-15s` of TOPIC PARTITION STATUS.
pub fn delete_offsets_table(rows: &[(String, i32, Option<String>)]) -> String {
    let columns = [
        Column::new("TOPIC", Width::Fixed(30)),
        Column::new("PARTITION", Width::Fixed(15)),
        Column::new("STATUS", Width::Fixed(15)),
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|(t, p, error)| {
            let status = match error {
                None => "Successful".to_string(),
                Some(msg) => format!("Error: :{msg}"),
            };
            // A topic that could not be looked up has no partition to show.
            let partition = if *p >= 0 {
                p.to_string()
            } else {
                "Not Provided".to_string()
            };
            vec![t.clone(), partition, status]
        })
        .collect();
    after_blank_line(kafka_table(&columns, &cells))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn row(topic: &str, partition: i32, current: Option<i64>, end: i64, member: bool) -> OffsetRow {
        OffsetRow {
            group: "my-group".into(),
            topic: Some(topic.into()),
            partition: Some(partition),
            current_offset: current,
            log_end_offset: Some(end),
            consumer_id: member.then(|| "console-consumer-1234-abcd".to_string()),
            host: member.then(|| "/127.0.0.1".to_string()),
            client_id: member.then(|| "console-consumer".to_string()),
        }
    }

    #[test]
    fn offsets_table_uses_kafkas_widths_and_intended_layout() {
        let text = offsets_table(&[row("t", 0, Some(4), 7, true), row("t", 1, None, 3, false)]);
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(lines[0], "");
        assert_eq!(
            lines[1],
            "GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID                HOST            CLIENT-ID"
        );
        assert_eq!(
            lines[2],
            "my-group        t               0          4               7               3               console-consumer-1234-abcd /127.0.0.1      console-consumer"
        );
        assert_eq!(
            lines[3],
            "my-group        t               1          -               3               -               -                          -               -"
        );
        assert_eq!(lines[4], "");
        assert_eq!(lines.len(), 5);
    }

    #[test]
    fn long_group_names_widen_the_group_column() {
        let mut r = row("t", 0, Some(1), 1, false);
        r.group = "a-very-long-group-name".into();
        let text = offsets_table(&[r]);
        assert!(text.contains("\nGROUP                  TOPIC "));
        assert!(text.contains("\na-very-long-group-name t "));
    }

    #[test]
    fn members_table_with_and_without_instance_ids() {
        let m = MemberRow {
            group: "g".into(),
            consumer_id: "c-1".into(),
            group_instance_id: String::new(),
            host: "/127.0.0.1".into(),
            client_id: "c".into(),
            assignment: vec![("t2".into(), 2), ("t1".into(), 1), ("t1".into(), 0)],
        };
        assert_eq!(
            members_table(std::slice::from_ref(&m), true),
            "\nGROUP           CONSUMER-ID     HOST            CLIENT-ID       #PARTITIONS     ASSIGNMENT\n\
             g               c-1             /127.0.0.1      c               3               t1(0,1), t2(2)\n"
        );
        let mut s = m.clone();
        s.group_instance_id = "static-1".into();
        s.assignment.clear();
        assert_eq!(
            members_table(&[s], false),
            "\nGROUP           CONSUMER-ID     GROUP-INSTANCE-ID HOST            CLIENT-ID       #PARTITIONS     \n\
             g               c-1             static-1          /127.0.0.1      c               0               \n"
        );
        assert_eq!(assignment_text(&[]), "-");
    }

    #[test]
    fn state_table_prints_coordinator_with_two_spaces() {
        let text = state_table(&StateRow {
            group: "g".into(),
            coordinator_host: "localhost".into(),
            coordinator_port: 9092,
            coordinator_id: 0,
            assignment_strategy: "range".into(),
            state: "Stable".into(),
            members: 2,
        });
        assert_eq!(
            text,
            "\nGROUP                     COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE           #MEMBERS\
             \ng                         localhost:9092  (0)       range                Stable          2\n"
        );
    }

    #[test]
    fn list_table_pads_group_by_ten_more_than_longest() {
        let text = list_table(
            &[("g1".into(), "Classic".into(), "Stable".into())],
            false,
            true,
        );
        assert_eq!(
            text,
            format!(
                "{:<25} {:<20}\n{:<25} {:<20}\n",
                "GROUP", "STATE", "g1", "Stable"
            )
        );
    }

    #[test]
    fn a_name_longer_than_its_fixed_column_shifts_only_its_own_line() {
        let long = "a-topic-name-longer-than-thirty-chars";
        let text = reset_table(
            &[
                ("g".into(), "t".into(), 0, 5),
                ("g".into(), long.into(), 1, 6),
            ],
            true,
        );
        assert_eq!(
            text,
            format!(
                "\n{:<30} {:<30} {:<10} {:<15}\n{:<30} {:<30} {:<10} {:<15}\n{:<30} {long} {:<10} {:<15}\n",
                "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET", "g", "t", "0", "5", "g", "1", "6"
            )
        );
    }

    #[test]
    fn reset_and_delete_offsets_tables() {
        assert_eq!(
            reset_table(&[("g".into(), "t".into(), 0, 5)], true),
            format!(
                "\n{:<30} {:<30} {:<10} {:<15}\n{:<30} {:<30} {:<10} {:<15}\n",
                "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET", "g", "t", "0", "5"
            )
        );
        assert_eq!(reset_table(&[], false), "");
        let text =
            delete_offsets_table(&[("t".into(), 0, None), ("t".into(), 1, Some("boom".into()))]);
        assert!(text.contains(&format!("{:<30} {:<15} {:<15}\n", "t", "0", "Successful")));
        assert!(text.contains("Error: :boom"));
        assert_eq!(
            reset_csv(&[("g".into(), "t".into(), 0, 5)], true),
            "t,0,5\n"
        );
    }
}
