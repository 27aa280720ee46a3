//! The JSON lines `VerifiableProducer` prints, written as its Jackson `ObjectMapper` writes them:
//! `timestamp` and `name` first (`@JsonPropertyOrder`), then the event's fields in declaration
//! order (Jackson lists the fields behind properties before properties that are only methods),
//! `null` for a missing key or message, doubles as Java's `Double.toString` prints them.
//!
//! One property order is not fixed by Kafka: `producer_send_success`'s `topic`, `partition` and
//! `offset` are methods without fields, which Jackson lists in the JVM's method order (runs of
//! Kafka's tool show several orders). The order here, `topic, partition, offset`, is the one
//! Kafka 3.x builds print most often and the one `record_data` fixes for the consumer.

use std::fmt::Write as _;

use java_compat::text::jackson_string as json_string;

/// One event line's content.
#[derive(Debug, Clone, PartialEq)]
pub enum ProducerEvent {
    /// `StartupComplete`: printed before the first send.
    StartupComplete,
    /// `SuccessfulSend`: the broker acknowledged a record.
    SendSuccess {
        key: Option<String>,
        value: String,
        topic: String,
        partition: i32,
        offset: i64,
    },
    /// `FailedSend`: a record failed; `exception` is the Java class name, `message` its message.
    SendError {
        topic: String,
        key: Option<String>,
        value: String,
        exception: String,
        message: Option<String>,
    },
    /// `ShutdownComplete`: printed once the producer is closed (everything sent answered).
    ShutdownComplete,
    /// `ToolData`: the summary after shutdown; `avg_throughput` is acknowledged records per
    /// second since the start.
    ToolData {
        sent: i64,
        acked: i64,
        target_throughput: i64,
        avg_throughput: f64,
    },
}

impl ProducerEvent {
    /// The event's `name`.
    pub fn name(&self) -> &'static str {
        match self {
            ProducerEvent::StartupComplete => "startup_complete",
            ProducerEvent::SendSuccess { .. } => "producer_send_success",
            ProducerEvent::SendError { .. } => "producer_send_error",
            ProducerEvent::ShutdownComplete => "shutdown_complete",
            ProducerEvent::ToolData { .. } => "tool_data",
        }
    }

    /// The JSON line (without the newline), `timestamp` in ms since the epoch.
    pub fn to_json(&self, timestamp: i64) -> String {
        let mut out = format!("{{\"timestamp\":{timestamp},\"name\":\"{}\"", self.name());
        match self {
            ProducerEvent::StartupComplete | ProducerEvent::ShutdownComplete => {}
            ProducerEvent::SendSuccess {
                key,
                value,
                topic,
                partition,
                offset,
            } => {
                let _ = write!(
                    out,
                    ",\"key\":{},\"value\":{},\"topic\":{},\"partition\":{partition},\"offset\":{offset}",
                    json_string_or_null(key.as_deref()),
                    json_string(value),
                    json_string(topic)
                );
            }
            ProducerEvent::SendError {
                topic,
                key,
                value,
                exception,
                message,
            } => {
                let _ = write!(
                    out,
                    ",\"topic\":{},\"key\":{},\"value\":{},\"exception\":{},\"message\":{}",
                    json_string(topic),
                    json_string_or_null(key.as_deref()),
                    json_string(value),
                    json_string(exception),
                    json_string_or_null(message.as_deref())
                );
            }
            ProducerEvent::ToolData {
                sent,
                acked,
                target_throughput,
                avg_throughput,
            } => {
                let _ = write!(
                    out,
                    ",\"sent\":{sent},\"acked\":{acked},\"target_throughput\":{target_throughput},\"avg_throughput\":{}",
                    json_double(*avg_throughput)
                );
            }
        }
        out.push('}');
        out
    }
}

fn json_string_or_null(s: Option<&str>) -> String {
    s.map_or_else(|| "null".to_string(), json_string)
}

/// A double as Jackson writes it: Java's `Double.toString` (`12.5`, `3.0`, `1.0E7`, `1.0E-4`),
/// and NaN / infinities quoted (`"NaN"`, `"Infinity"`), Jackson's default for non-numeric
/// numbers.
pub fn json_double(d: f64) -> String {
    if d.is_nan() {
        return "\"NaN\"".to_string();
    }
    if d.is_infinite() {
        return if d > 0.0 {
            "\"Infinity\"".to_string()
        } else {
            "\"-Infinity\"".to_string()
        };
    }
    java_compat::text::double_to_string(d)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn startup_and_shutdown_have_timestamp_then_name() {
        assert_eq!(
            ProducerEvent::StartupComplete.to_json(1731159021616),
            r#"{"timestamp":1731159021616,"name":"startup_complete"}"#
        );
        assert_eq!(
            ProducerEvent::ShutdownComplete.to_json(5),
            r#"{"timestamp":5,"name":"shutdown_complete"}"#
        );
    }

    #[test]
    fn success_line_matches_kafkas() {
        // As printed by Kafka's tool (kafka-verifiable-producer --max-messages 3 --topic verify-test).
        let e = ProducerEvent::SendSuccess {
            key: None,
            value: "0".to_string(),
            topic: "verify-test".to_string(),
            partition: 0,
            offset: 13,
        };
        assert_eq!(
            e.to_json(1731159021783),
            r#"{"timestamp":1731159021783,"name":"producer_send_success","key":null,"value":"0","topic":"verify-test","partition":0,"offset":13}"#
        );
        let keyed = ProducerEvent::SendSuccess {
            key: Some("1".to_string()),
            value: "7.3".to_string(),
            topic: "t".to_string(),
            partition: 2,
            offset: 0,
        };
        let v: serde_json::Value = serde_json::from_str(&keyed.to_json(1)).unwrap();
        assert_eq!(v["key"], "1");
        assert_eq!(v["value"], "7.3");
    }

    #[test]
    fn error_line_lists_topic_key_value_exception_message() {
        let e = ProducerEvent::SendError {
            topic: "t".to_string(),
            key: None,
            value: "4".to_string(),
            exception: "class org.apache.kafka.common.errors.TimeoutException".to_string(),
            message: Some("Topic t not present in metadata after 60000 ms.".to_string()),
        };
        assert_eq!(
            e.to_json(9),
            r#"{"timestamp":9,"name":"producer_send_error","topic":"t","key":null,"value":"4","exception":"class org.apache.kafka.common.errors.TimeoutException","message":"Topic t not present in metadata after 60000 ms."}"#
        );
    }

    #[test]
    fn tool_data_line_matches_kafkas() {
        let e = ProducerEvent::ToolData {
            sent: 10,
            acked: 10,
            target_throughput: -1,
            avg_throughput: 32.15434083601286,
        };
        assert_eq!(
            e.to_json(1646221252236),
            r#"{"timestamp":1646221252236,"name":"tool_data","sent":10,"acked":10,"target_throughput":-1,"avg_throughput":32.15434083601286}"#
        );
    }

    #[test]
    fn doubles_print_as_java_prints_them() {
        assert_eq!(json_double(3.0), "3.0");
        assert_eq!(json_double(0.0), "0.0");
        assert_eq!(json_double(1234.5), "1234.5");
        assert_eq!(json_double(1.0e7), "1.0E7");
        assert_eq!(json_double(12_345_678.9), "1.23456789E7");
        assert_eq!(json_double(0.0001), "1.0E-4");
        assert_eq!(json_double(0.001), "0.001");
        assert_eq!(json_double(f64::NAN), "\"NaN\"");
        assert_eq!(json_double(f64::INFINITY), "\"Infinity\"");
    }

    #[test]
    fn strings_escape_as_jackson_does() {
        assert_eq!(json_string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(json_string("x\ny\u{1}"), "\"x\\ny\\u0001\"");
        assert_eq!(json_string("a/b é"), "\"a/b é\"");
        let back: String = serde_json::from_str(&json_string("q\"\t\u{1f}")).unwrap();
        assert_eq!(back, "q\"\t\u{1f}");
    }
}
