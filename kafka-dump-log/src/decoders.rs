//! DumpLogSegments' `MessageParser`s: what `--print-data-log` shows for a record's key and
//! value. The `Decoder` classes of `org.apache.kafka.tools.api` Kafka ships (`StringDecoder`, the
//! default, `IntegerDecoder`, `LongDecoder`, and their deprecated `kafka.serializer` names), the
//! `__consumer_offsets` parser (`OffsetsMessageParser`, JSON as Kafka's generated
//! `JsonConverter`s write it) and the `__transaction_state` parser (`TransactionLog.
//! formatRecordKeyAndValue`), both over the broker's own record codecs.

use broker::group::records::{self as group_records, RecordKey};
use broker::txn::records as txn_records;

use crate::failure::Failure;
use crate::options::Parser;
use crate::records::Record;

/// A `Decoder` class Kafka ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    String,
    Integer,
    Long,
}

impl Decoder {
    /// `newDecoder(className)`; the deprecated `kafka.serializer` names print Kafka's notice.
    fn create(class: &str, notices: &mut Vec<String>) -> Result<Decoder, Failure> {
        let deprecated = |new: &str| {
            format!("{class} is deprecated. Please use org.apache.kafka.tools.api.{new} instead")
        };
        match class {
            "org.apache.kafka.tools.api.StringDecoder" => Ok(Decoder::String),
            "org.apache.kafka.tools.api.IntegerDecoder" => Ok(Decoder::Integer),
            "org.apache.kafka.tools.api.LongDecoder" => Ok(Decoder::Long),
            "kafka.serializer.StringDecoder" => {
                notices.push(deprecated("StringDecoder"));
                Ok(Decoder::String)
            }
            "kafka.serializer.IntegerDecoder" => {
                notices.push(deprecated("IntegerDecoder"));
                Ok(Decoder::Integer)
            }
            "kafka.serializer.LongDecoder" => {
                notices.push(deprecated("LongDecoder"));
                Ok(Decoder::Long)
            }
            "org.apache.kafka.tools.api.DefaultDecoder" | "kafka.serializer.DefaultDecoder" => {
                // Kafka prints the byte array's identity (`[B@1b6d3586`), which says nothing.
                Err(Failure::new(
                    "java.lang.UnsupportedOperationException",
                    format!(
                        "{class} is not supported by this kafka-dump-log (it prints Java object \
                         identities); use org.apache.kafka.tools.api.StringDecoder, IntegerDecoder \
                         or LongDecoder"
                    ),
                ))
            }
            // No JVM here to load custom classes from kafka/libs.
            other => Err(Failure::new("java.lang.ClassNotFoundException", other)),
        }
    }

    fn decode(self, bytes: &[u8]) -> Result<String, Failure> {
        let underflow = || Failure::new("java.nio.BufferUnderflowException", "");
        match self {
            Decoder::String => Ok(String::from_utf8_lossy(bytes).into_owned()),
            Decoder::Integer => {
                let raw: [u8; 4] = bytes
                    .get(..4)
                    .ok_or_else(underflow)?
                    .try_into()
                    .map_err(|_| underflow())?;
                Ok(i32::from_be_bytes(raw).to_string())
            }
            Decoder::Long => {
                let raw: [u8; 8] = bytes
                    .get(..8)
                    .ok_or_else(underflow)?
                    .try_into()
                    .map_err(|_| underflow())?;
                Ok(i64::from_be_bytes(raw).to_string())
            }
        }
    }
}

/// A parser made for one log file (Kafka builds it anew for each).
#[derive(Debug, Clone)]
pub enum MessageParser {
    Decoders { key: Decoder, value: Decoder },
    Offsets,
    TransactionLog,
}

impl MessageParser {
    /// `opts.messageParser`: the decoders are created value first, then key, and a deprecated
    /// class name prints its notice (returned in `notices`, for stdout) as it is created.
    pub fn create(parser: &Parser, notices: &mut Vec<String>) -> Result<MessageParser, Failure> {
        match parser {
            Parser::Offsets => Ok(MessageParser::Offsets),
            Parser::TransactionLog => Ok(MessageParser::TransactionLog),
            Parser::ClusterMetadata => Err(Failure::new(
                "java.lang.UnsupportedOperationException",
                "--cluster-metadata-decoder reads KRaft metadata logs; this cluster keeps its metadata in ZooKeeper (zookeeper-lite), so there are none to decode",
            )),
            Parser::RemoteLogMetadata => Err(Failure::new(
                "java.lang.UnsupportedOperationException",
                "--remote-log-metadata-decoder reads tiered-storage metadata, which this broker does not write",
            )),
            Parser::Decoders { key, value } => {
                let value = Decoder::create(value, notices)?;
                let key = Decoder::create(key, notices)?;
                Ok(MessageParser::Decoders { key, value })
            }
        }
    }

    /// `parse(record)`: the key and payload texts, each absent when not printed.
    pub fn parse(&self, record: &Record) -> Result<(Option<String>, Option<String>), Failure> {
        match self {
            MessageParser::Decoders { key, value } => {
                let key = match &record.key {
                    Some(k) => Some(key.decode(k)?),
                    None => None,
                };
                let value = match &record.value {
                    Some(v) => Some(value.decode(v)?),
                    None => None,
                };
                Ok((key, value))
            }
            MessageParser::Offsets => offsets(record),
            MessageParser::TransactionLog => transaction_log(record),
        }
    }
}

fn version_of(bytes: &[u8]) -> Option<i16> {
    Some(i16::from_be_bytes(bytes.get(..2)?.try_into().ok()?))
}

/// A JSON string as Jackson writes it.
fn js(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn js_opt(s: Option<&str>) -> String {
    s.map_or_else(|| "null".to_string(), js)
}

/// Jackson's `BinaryNode` text: base64.
fn js_bytes(b: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::from("\"");
    for chunk in b.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, byte)| {
            acc | (u32::from(*byte) << (16 - 8 * i))
        });
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out.push('"');
    out
}

/// `[{"topic":"t","partitions":[0,1]}]`.
fn topic_partitions_json(list: &[(String, Vec<i32>)]) -> String {
    let items: Vec<String> = list
        .iter()
        .map(|(topic, partitions)| {
            let ps: Vec<String> = partitions.iter().map(i32::to_string).collect();
            format!(
                "{{\"topic\":{},\"partitions\":[{}]}}",
                js(topic),
                ps.join(",")
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

fn js_nullable_bytes(b: Option<&[u8]>) -> String {
    b.map_or_else(|| "null".to_string(), js_bytes)
}

/// `ConsumerProtocolSubscriptionJsonConverter.write` at the version the bytes start with
/// (0-3); `None` when they do not decode.
fn subscription_json(bytes: &[u8]) -> Option<String> {
    let version = version_of(bytes)?;
    if !(0..=3).contains(&version) {
        return None;
    }
    let sub = common::consumer_protocol::Subscription::decode(bytes).ok()?;
    let topics: Vec<String> = sub.topics.iter().map(|t| js(t)).collect();
    let mut out = format!(
        "{{\"topics\":[{}],\"userData\":{}",
        topics.join(","),
        js_nullable_bytes(sub.user_data.as_deref())
    );
    if version >= 1 {
        out.push_str(&format!(
            ",\"ownedPartitions\":{}",
            topic_partitions_json(&sub.owned_partitions)
        ));
    }
    if version >= 2 {
        out.push_str(&format!(",\"generationId\":{}", sub.generation_id));
    }
    if version >= 3 {
        out.push_str(&format!(",\"rackId\":{}", js_opt(sub.rack_id.as_deref())));
    }
    out.push('}');
    Some(out)
}

/// `ConsumerProtocolAssignmentJsonConverter.write`; `None` when the bytes do not decode (an
/// empty assignment has no version to read).
fn assignment_json(bytes: &[u8]) -> Option<String> {
    let version = version_of(bytes)?;
    if !(0..=3).contains(&version) {
        return None;
    }
    let a = common::consumer_protocol::Assignment::decode(bytes).ok()?;
    Some(format!(
        "{{\"assignedPartitions\":{},\"userData\":{}}}",
        topic_partitions_json(&a.partitions),
        js_nullable_bytes(a.user_data.as_deref())
    ))
}

/// `OffsetsMessageParser.parse`.
fn offsets(record: &Record) -> Result<(Option<String>, Option<String>), Failure> {
    let Some(key) = &record.key else {
        return Err(Failure::new(
            "java.lang.RuntimeException",
            format!(
                "Failed to decode message at offset {} using offset topic decoder (message had a missing key)",
                record.offset
            ),
        ));
    };
    let key_version = version_of(key).unwrap_or(-1);
    let decoded = match group_records::decode_key(key) {
        Ok(k) => k,
        Err(e) => {
            return Ok((
                Some(format!("Error at offset {}, skipping. {e}", record.offset)),
                None,
            ))
        }
    };
    let key_json = match &decoded {
        RecordKey::Offset {
            group,
            topic,
            partition,
        } => format!(
            "{{\"type\":\"{key_version}\",\"data\":{{\"group\":{},\"topic\":{},\"partition\":{partition}}}}}",
            js(group),
            js(topic)
        ),
        RecordKey::Group { group } => format!(
            "{{\"type\":\"{key_version}\",\"data\":{{\"group\":{}}}}}",
            js(group)
        ),
        RecordKey::Other(version) => {
            return Ok((
                Some(format!(
                    "Unknown record type {version} at offset {}, skipping.",
                    record.offset
                )),
                None,
            ))
        }
    };
    let Some(value) = &record.value else {
        return Ok((Some(key_json), Some("<DELETE>".to_string())));
    };
    let value_version = version_of(value).unwrap_or(-1);
    let value_json = match decoded {
        RecordKey::Offset { .. } => match group_records::decode_offset_value(value) {
            Ok(v) => {
                let mut data = format!("{{\"offset\":{}", v.offset);
                if value_version >= 3 {
                    data.push_str(&format!(",\"leaderEpoch\":{}", v.leader_epoch));
                }
                data.push_str(&format!(
                    ",\"metadata\":{},\"commitTimestamp\":{}",
                    js(&v.metadata),
                    v.commit_timestamp
                ));
                if value_version == 1 {
                    data.push_str(&format!(
                        ",\"expireTimestamp\":{}",
                        v.expire_timestamp.unwrap_or(-1)
                    ));
                }
                data.push('}');
                data
            }
            Err(e) => {
                return Ok((
                    Some(format!("Error at offset {}, skipping. {e}", record.offset)),
                    None,
                ))
            }
        },
        RecordKey::Group { .. } => match group_records::decode_group_value(value) {
            Ok(g) => {
                let members: Vec<String> = g
                    .members
                    .iter()
                    .map(|m| {
                        let mut s = format!("{{\"memberId\":{}", js(&m.member_id));
                        if value_version >= 3 {
                            s.push_str(&format!(
                                ",\"groupInstanceId\":{}",
                                js_opt(m.group_instance_id.as_deref())
                            ));
                        }
                        s.push_str(&format!(
                            ",\"clientId\":{},\"clientHost\":{}",
                            js(&m.client_id),
                            js(&m.client_host)
                        ));
                        if value_version >= 1 {
                            s.push_str(&format!(
                                ",\"rebalanceTimeout\":{}",
                                m.rebalance_timeout_ms
                            ));
                        }
                        // A consumer group's member protocol bytes are shown decoded, as
                        // Kafka's `prepareGroupMetadataValue` does (undecodable ones stay bytes).
                        let consumer = g.protocol_type == "consumer";
                        let subscription = consumer
                            .then(|| subscription_json(&m.subscription))
                            .flatten()
                            .unwrap_or_else(|| js_bytes(&m.subscription));
                        let assignment = consumer
                            .then(|| assignment_json(&m.assignment))
                            .flatten()
                            .unwrap_or_else(|| js_bytes(&m.assignment));
                        s.push_str(&format!(
                            ",\"sessionTimeout\":{},\"subscription\":{subscription},\"assignment\":{assignment}}}",
                            m.session_timeout_ms,
                        ));
                        s
                    })
                    .collect();
                let mut data = format!(
                    "{{\"protocolType\":{},\"generation\":{},\"protocol\":{},\"leader\":{}",
                    js(&g.protocol_type),
                    g.generation,
                    js_opt(g.protocol.as_deref()),
                    js_opt(g.leader.as_deref())
                );
                if value_version >= 2 {
                    data.push_str(&format!(
                        ",\"currentStateTimestamp\":{}",
                        g.current_state_timestamp
                    ));
                }
                data.push_str(&format!(",\"members\":[{}]}}", members.join(",")));
                data
            }
            Err(e) => {
                return Ok((
                    Some(format!("Error at offset {}, skipping. {e}", record.offset)),
                    None,
                ))
            }
        },
        // Returned above with its "Unknown record type" text.
        RecordKey::Other(_) => String::new(),
    };
    Ok((
        Some(key_json),
        Some(format!(
            "{{\"version\":\"{value_version}\",\"data\":{value_json}}}"
        )),
    ))
}

/// `TransactionLog.formatRecordKeyAndValue`. Kafka catches nothing here, so a record that does
/// not read ends the dump with its exception: a null key is `readTxnRecordKey(null)`'s
/// `NullPointerException`, a key or value shorter than its version a `BufferUnderflowException`,
/// a value version other than 0 and 1 Kafka's `IllegalStateException`, and a malformed body a
/// `RuntimeException` naming the field. A key version other than 0 is Kafka's
/// `unknown::version=N`, printed without a payload.
fn transaction_log(record: &Record) -> Result<(Option<String>, Option<String>), Failure> {
    let underflow = || Failure::new("java.nio.BufferUnderflowException", "");
    let Some(key) = record.key.as_deref() else {
        return Err(Failure::new("java.lang.NullPointerException", ""));
    };
    let version = version_of(key).ok_or_else(underflow)?;
    if version != 0 {
        return Ok((Some(format!("unknown::version={version}")), None));
    }
    let id =
        txn_records::decode_key(key).map_err(|e| Failure::new("java.lang.RuntimeException", e))?;
    let key_text = format!("transaction_metadata::transactionalId={id}");
    let Some(value) = &record.value else {
        return Ok((Some(key_text), Some("<DELETE>".to_string())));
    };
    let value_version = version_of(value).ok_or_else(underflow)?;
    if !(0..=1).contains(&value_version) {
        return Err(Failure::new(
            "java.lang.IllegalStateException",
            format!("Unknown version {value_version} from the transaction log message value"),
        ));
    }
    let v = txn_records::decode_value(value)
        .map_err(|e| Failure::new("java.lang.RuntimeException", e))?;
    let partitions: Vec<String> = v
        .partitions
        .iter()
        .map(|(t, p)| format!("{t}-{p}"))
        .collect();
    let value_text = format!(
        "producerId:{},producerEpoch:{},state={},partitions=[{}],txnLastUpdateTimestamp={},txnTimeoutMs={}",
        v.producer_id,
        v.producer_epoch,
        v.state.name(),
        partitions.join(","),
        v.last_update_ms,
        v.timeout_ms
    );
    Ok((Some(key_text), Some(value_text)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn record(key: Option<&[u8]>, value: Option<&[u8]>) -> Record {
        Record {
            offset: 7,
            timestamp: 0,
            sequence: -1,
            key: key.map(Bytes::copy_from_slice),
            value: value.map(Bytes::copy_from_slice),
            header_keys: Vec::new(),
        }
    }

    #[test]
    fn kafka_decoders_read_strings_ints_and_longs() {
        let mut notices = Vec::new();
        let p = MessageParser::create(
            &Parser::Decoders {
                key: "org.apache.kafka.tools.api.IntegerDecoder".into(),
                value: "kafka.serializer.StringDecoder".into(),
            },
            &mut notices,
        )
        .unwrap();
        assert_eq!(
            notices,
            vec!["kafka.serializer.StringDecoder is deprecated. Please use org.apache.kafka.tools.api.StringDecoder instead"]
        );
        let (k, v) = p.parse(&record(Some(&[0, 0, 1, 0]), Some(b"hi"))).unwrap();
        assert_eq!((k.as_deref(), v.as_deref()), (Some("256"), Some("hi")));
        let e = p.parse(&record(Some(&[0]), None)).unwrap_err();
        assert_eq!(e.class, "java.nio.BufferUnderflowException");
        let e = MessageParser::create(
            &Parser::Decoders {
                key: "com.example.Mine".into(),
                value: "org.apache.kafka.tools.api.StringDecoder".into(),
            },
            &mut notices,
        )
        .unwrap_err();
        assert_eq!(
            e.report(),
            "Exception in thread \"main\" java.lang.ClassNotFoundException: com.example.Mine\n"
        );
    }

    #[test]
    fn offset_commits_print_as_kafkas_json() {
        let key = group_records::offset_key("g", "t", 3);
        let value = group_records::encode_offset_value(&group_records::OffsetValue {
            offset: 42,
            leader_epoch: 0,
            metadata: "m\"x".into(),
            commit_timestamp: 1000,
            expire_timestamp: None,
        });
        let (k, v) = offsets(&record(Some(&key), Some(&value))).unwrap();
        assert_eq!(
            k.unwrap(),
            r#"{"type":"1","data":{"group":"g","topic":"t","partition":3}}"#
        );
        assert_eq!(
            v.unwrap(),
            r#"{"version":"3","data":{"offset":42,"leaderEpoch":0,"metadata":"m\"x","commitTimestamp":1000}}"#
        );
        let (k, v) = offsets(&record(Some(&group_records::group_key("g")), None)).unwrap();
        assert_eq!(k.unwrap(), r#"{"type":"2","data":{"group":"g"}}"#);
        assert_eq!(v.unwrap(), "<DELETE>");
    }

    #[test]
    fn consumer_group_members_show_decoded_protocol_bytes() {
        use common::consumer_protocol::{Assignment, Subscription};
        let sub = Subscription {
            topics: vec!["t".into()],
            owned_partitions: vec![("t".into(), vec![0])],
            ..Subscription::default()
        };
        let assignment = Assignment {
            partitions: vec![("t".into(), vec![0, 1])],
            user_data: None,
        };
        let value = group_records::encode_group_value(&group_records::GroupValue {
            protocol_type: "consumer".into(),
            generation: 1,
            protocol: Some("range".into()),
            leader: Some("m-1".into()),
            current_state_timestamp: 5,
            members: vec![group_records::MemberValue {
                member_id: "m-1".into(),
                group_instance_id: None,
                client_id: "c".into(),
                client_host: "/127.0.0.1".into(),
                rebalance_timeout_ms: 300000,
                session_timeout_ms: 45000,
                subscription: Bytes::from(sub.encode(3)),
                assignment: Bytes::from(assignment.encode(3)),
            }],
        });
        let key = group_records::group_key("g");
        let (_, v) = offsets(&record(Some(&key), Some(&value))).unwrap();
        assert_eq!(
            v.unwrap(),
            r#"{"version":"3","data":{"protocolType":"consumer","generation":1,"protocol":"range","leader":"m-1","currentStateTimestamp":5,"members":[{"memberId":"m-1","groupInstanceId":null,"clientId":"c","clientHost":"/127.0.0.1","rebalanceTimeout":300000,"sessionTimeout":45000,"subscription":{"topics":["t"],"userData":null,"ownedPartitions":[{"topic":"t","partitions":[0]}],"generationId":-1,"rackId":null},"assignment":{"assignedPartitions":[{"topic":"t","partitions":[0,1]}],"userData":null}}]}}"#
        );
    }

    #[test]
    fn base64_matches_jackson() {
        assert_eq!(js_bytes(b""), "\"\"");
        assert_eq!(js_bytes(b"f"), "\"Zg==\"");
        assert_eq!(js_bytes(b"fo"), "\"Zm8=\"");
        assert_eq!(js_bytes(b"foo"), "\"Zm9v\"");
    }

    #[test]
    fn transaction_log_records_print_as_kafka_formats_them_or_fail_as_it_does() {
        let key = txn_records::encode_key("tx-1");
        let value = txn_records::encode_value(&txn_records::TxnLogValue {
            producer_id: 4000,
            producer_epoch: 2,
            timeout_ms: 60000,
            state: broker::txn::TxnState::Ongoing,
            partitions: [("t".to_string(), 0), ("t".to_string(), 1)].into(),
            last_update_ms: 1700000000000,
            start_ms: 1700000000000,
        });
        assert_eq!(
            transaction_log(&record(Some(&key), Some(&value))).unwrap(),
            (
                Some("transaction_metadata::transactionalId=tx-1".to_string()),
                Some(
                    "producerId:4000,producerEpoch:2,state=Ongoing,partitions=[t-0,t-1],\
                     txnLastUpdateTimestamp=1700000000000,txnTimeoutMs=60000"
                        .to_string()
                )
            )
        );
        assert_eq!(
            transaction_log(&record(Some(&key), None))
                .unwrap()
                .1
                .unwrap(),
            "<DELETE>"
        );
        // A key version Kafka does not know is printed, not failed.
        assert_eq!(
            transaction_log(&record(Some(&[0, 3, 0, 0]), None)).unwrap(),
            (Some("unknown::version=3".to_string()), None)
        );
        // readTxnRecordKey(null): Kafka catches nothing, so the dump ends there.
        let fails = |key: Option<&[u8]>, value: Option<&[u8]>| {
            let f = transaction_log(&record(key, value)).unwrap_err();
            format!("{}: {}", f.class, f.message)
        };
        assert_eq!(
            fails(None, Some(&value)),
            "java.lang.NullPointerException: "
        );
        assert_eq!(
            fails(Some(&[0]), None),
            "java.nio.BufferUnderflowException: "
        );
        assert_eq!(
            fails(Some(&key), Some(&[0, 9, 1])),
            "java.lang.IllegalStateException: Unknown version 9 from the transaction log message value"
        );
        assert_eq!(
            fails(Some(&key), Some(&[0])),
            "java.nio.BufferUnderflowException: "
        );
        assert!(fails(Some(&key), Some(&[0, 0, 1])).starts_with("java.lang.RuntimeException: "));
        assert!(fails(Some(&[0, 0, 0, 9, b'x']), None).starts_with("java.lang.RuntimeException: "));
    }
}
