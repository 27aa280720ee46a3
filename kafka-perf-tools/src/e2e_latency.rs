//! `kafka-e2e-latency`: Kafka 3.9's `org.apache.kafka.tools.EndToEndLatency` on our client
//! library. Positional arguments `broker_list topic num_messages producer_acks
//! message_size_bytes [properties_file]`; it creates the topic when missing (1 partition,
//! replication factor 1), assigns every partition to a consumer positioned at the end, then for
//! each message sends it synchronously (`linger.ms=0`), polls it back (`fetch.max.wait.ms=0`)
//! and checks it; every 1000th message prints `i<TAB>latency-ms`, and the end prints the average
//! and the 50th / 99th / 99.9th percentiles (whole ms, as Kafka's tool truncates them).

use std::time::{Duration, Instant};

use bytes::Bytes;
use client::admin::OffsetSpec;
use client::consumer::{Consumer, ConsumerConfig, StartOffset};
use client::producer::{Producer, ProducerConfig, ProducerRecord};
use client::{Admin, NewTopic};
use common::time::now_ms;

use crate::random::JavaRandom;
use crate::{set_property, JavaException};

const POLL_TIMEOUT_MS: u64 = 60_000;

/// The usage line printed for a wrong argument count.
pub const USAGE: &str = "USAGE: java org.apache.kafka.tools.EndToEndLatency broker_list topic num_messages producer_acks message_size_bytes [optional] properties_file";

/// The parsed arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub brokers: String,
    pub topic: String,
    pub num_messages: usize,
    pub acks: String,
    pub message_size: usize,
    pub properties_file: Option<String>,
}

/// Why the tool fails: `Terse` prints its message alone (the `TerseException`); `Exception`
/// prints the message, then the exception.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Terse(String),
    Exception(JavaException),
}

impl Failure {
    /// Prints to stderr as `mainNoExit` does; returns 1.
    pub fn report(&self) -> i32 {
        match self {
            Failure::Terse(m) => eprintln!("{m}"),
            Failure::Exception(e) => {
                eprintln!("{}", e.message);
                e.print();
            }
        }
        1
    }
}

fn exception(class: &str, message: impl Into<String>) -> Failure {
    Failure::Exception(JavaException::new(class, message))
}

fn client_failure(e: &client::ClientError) -> Failure {
    Failure::Exception(JavaException::from_client(e))
}

/// `Integer.parseInt`'s failure.
fn parse_int(s: &str) -> Result<i64, Failure> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(exception(
            "java.lang.NumberFormatException",
            format!("For input string: \"{s}\""),
        ));
    }
    s.parse::<i32>().map(i64::from).map_err(|_| {
        exception(
            "java.lang.NumberFormatException",
            format!("For input string: \"{s}\""),
        )
    })
}

/// Reads the arguments as `execute` does.
pub fn parse_args(args: &[String]) -> Result<Args, Failure> {
    if args.len() != 5 && args.len() != 6 {
        return Err(Failure::Terse(USAGE.to_string()));
    }
    let num_messages = parse_int(&args[2])?;
    let acks = args[3].clone();
    let message_size = parse_int(&args[4])?;
    if acks != "1" && acks != "all" {
        return Err(exception(
            "java.lang.IllegalArgumentException",
            "Latency testing requires synchronous acknowledgement. Please use 1 or all",
        ));
    }
    if num_messages <= 0 {
        // `new long[0]` would make Kafka's percentile lookup throw; say why instead.
        return Err(exception(
            "java.lang.IllegalArgumentException",
            "num_messages must be greater than zero",
        ));
    }
    if message_size < 0 {
        return Err(exception(
            "java.lang.NegativeArraySizeException",
            message_size.to_string(),
        ));
    }
    let properties_file = args.get(5).filter(|s| !s.trim().is_empty()).cloned();
    Ok(Args {
        brokers: args[0].clone(),
        topic: args[1].clone(),
        num_messages: num_messages as usize,
        acks,
        message_size: message_size as usize,
        properties_file,
    })
}

/// `printResults`: the average and the percentiles of whole-ms latencies.
pub fn results(total_ns: f64, latencies_ms: &mut [i64]) -> String {
    let n = latencies_ms.len();
    latencies_ms.sort_unstable();
    let at = |p: f64| latencies_ms[((n as f64 * p) as usize).min(n - 1)];
    format!(
        "Avg latency: {:.4} ms\nPercentiles: 50th = {}, 99th = {}, 99.9th = {}\n",
        total_ns / n as f64 / 1000.0 / 1000.0,
        at(0.5),
        at(0.99),
        at(0.999)
    )
}

fn props_with_bootstrap(args: &Args) -> Result<Vec<(String, String)>, Failure> {
    let mut props = match &args.properties_file {
        Some(path) => cli::load_properties(path)
            .map_err(|e| exception(e.java_class(), e.java_message()))?
            .to_pairs(),
        None => Vec::new(),
    };
    set_property(&mut props, "bootstrap.servers", &args.brokers);
    Ok(props)
}

/// Runs the test, printing to stdout.
pub async fn execute(args: &Args) -> Result<(), Failure> {
    let base = props_with_bootstrap(args)?;
    let mut consumer_props = base.clone();
    set_property(
        &mut consumer_props,
        "group.id",
        &format!("test-group-{}", now_ms()),
    );
    set_property(&mut consumer_props, "enable.auto.commit", "false");
    set_property(&mut consumer_props, "auto.offset.reset", "latest");
    set_property(&mut consumer_props, "fetch.max.wait.ms", "0");
    let mut producer_props = base.clone();
    set_property(&mut producer_props, "linger.ms", "0");
    set_property(&mut producer_props, "max.block.ms", &i64::MAX.to_string());
    set_property(&mut producer_props, "acks", &args.acks);

    let admin_client_id = base
        .iter()
        .find(|(k, _)| k == "client.id")
        .map_or("adminclient-1", |(_, v)| v.as_str());
    let admin = Admin::connect(&args.brokers, admin_client_id)
        .await
        .map_err(|e| client_failure(&e))?;
    let topics = admin.list_topics().await.map_err(|e| client_failure(&e))?;
    if !topics.iter().any(|t| t.name == args.topic) {
        println!(
            "Topic \"{}\" does not exist. Will create topic with 1 partition(s) and replication factor = 1",
            args.topic
        );
        let created = admin
            .create_topic(NewTopic {
                name: args.topic.clone(),
                num_partitions: Some(1),
                replication_factor: Some(1),
                replica_assignment: None,
                configs: Vec::new(),
            })
            .await;
        if let Err(e) = created {
            println!("Creation of topic {} failed", args.topic);
            return Err(client_failure(&e));
        }
    }

    let consumer_config =
        ConsumerConfig::from_properties(&consumer_props).map_err(|e| client_failure(&e))?;
    let mut consumer = Consumer::new(consumer_config)
        .await
        .map_err(|e| client_failure(&e))?;
    let producer_config =
        ProducerConfig::from_properties(&producer_props).map_err(|e| client_failure(&e))?;
    let producer = Producer::new(producer_config)
        .await
        .map_err(|e| client_failure(&e))?;

    // `setupConsumer`: every partition, positioned at its end before the first send.
    let partitions = wait_for_partitions(&consumer, &args.topic).await?;
    let listed: Vec<(String, i32)> = partitions
        .iter()
        .map(|p| (args.topic.clone(), *p))
        .collect();
    let ends = admin
        .list_offsets(&listed, OffsetSpec::Latest)
        .await
        .map_err(|e| client_failure(&e))?;
    let mut assignment = Vec::new();
    for (tp, end) in ends {
        let end = end.map_err(|e| client_failure(&e))?;
        let start = end.map_or(StartOffset::Latest, StartOffset::Offset);
        assignment.push((tp.0, tp.1, start));
    }
    consumer
        .assign(assignment)
        .await
        .map_err(|e| client_failure(&e))?;

    let result = measure(args, &producer, &mut consumer).await;
    let _ = producer.close().await;
    consumer.close().await;
    let out = result?;
    print!("{out}");
    Ok(())
}

/// The partitions of `topic`, waiting up to 60 s for a just-created topic's metadata.
async fn wait_for_partitions(consumer: &Consumer, topic: &str) -> Result<Vec<i32>, Failure> {
    let deadline = Instant::now() + Duration::from_millis(POLL_TIMEOUT_MS);
    loop {
        match consumer.partitions_for(topic).await {
            Ok(p) if !p.is_empty() => return Ok(p),
            Ok(_) => {}
            Err(e) if Instant::now() >= deadline => return Err(client_failure(&e)),
            Err(_) => {}
        }
        if Instant::now() >= deadline {
            return Err(exception(
                "org.apache.kafka.common.errors.TimeoutException",
                format!("Timeout expired while fetching topic metadata for {topic}"),
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn measure(
    args: &Args,
    producer: &Producer,
    consumer: &mut Consumer,
) -> Result<String, Failure> {
    let mut total_ns = 0.0f64;
    let mut latencies = Vec::with_capacity(args.num_messages);
    let mut random = JavaRandom::new(0);
    for i in 0..args.num_messages {
        // `randomBytesOfLen`: one random letter repeated.
        let letter = (random.next_int(26) + 65) as u8;
        let message = Bytes::from(vec![letter; args.message_size]);
        let begin = Instant::now();
        let delivery = producer
            .send(ProducerRecord::new(args.topic.as_str(), message.clone()))
            .await
            .map_err(|e| client_failure(&e))?;
        delivery.await.map_err(|e| client_failure(&e))?;
        let records = consumer
            .poll(Duration::from_millis(POLL_TIMEOUT_MS))
            .await
            .map_err(|e| client_failure(&e))?;
        let elapsed = begin.elapsed();
        validate(&message, &records)?;
        let elapsed_ns = elapsed.as_nanos() as f64;
        if i % 1000 == 0 {
            println!(
                "{i}\t{}",
                java_compat::text::double_to_string(elapsed_ns / 1000.0 / 1000.0)
            );
        }
        total_ns += elapsed_ns;
        latencies.push((elapsed.as_nanos() / 1_000_000) as i64);
    }
    Ok(results(total_ns, &mut latencies))
}

/// `validate`: exactly the one message sent came back.
fn validate(sent: &Bytes, records: &[client::ConsumerRecord]) -> Result<(), Failure> {
    let Some(first) = records.first() else {
        return Err(exception(
            "java.lang.RuntimeException",
            format!("poll() timed out before finding a result (timeout:[{POLL_TIMEOUT_MS}])"),
        ));
    };
    let read = first.value.clone().unwrap_or_default();
    if read != sent {
        return Err(exception(
            "java.lang.RuntimeException",
            format!(
                "The message read [{}] did not match the message sent [{}]",
                String::from_utf8_lossy(&read),
                String::from_utf8_lossy(sent)
            ),
        ));
    }
    if records.len() != 1 {
        return Err(exception(
            "java.lang.RuntimeException",
            format!(
                "Only one result was expected during this test. We found [{}]",
                records.len()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn argument_checks_use_kafkas_texts() {
        assert_eq!(
            parse_args(&args("a b c")),
            Err(Failure::Terse(USAGE.to_string()))
        );
        assert_eq!(
            parse_args(&args("h:1 t 10 0 100")),
            Err(exception(
                "java.lang.IllegalArgumentException",
                "Latency testing requires synchronous acknowledgement. Please use 1 or all"
            ))
        );
        assert_eq!(
            parse_args(&args("h:1 t ten 1 100")),
            Err(exception(
                "java.lang.NumberFormatException",
                "For input string: \"ten\""
            ))
        );
        let ok = parse_args(&args("h:1 t 10 all 100 ")).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(ok.num_messages, 10);
        assert_eq!(ok.properties_file, None);
    }

    #[test]
    fn results_and_progress_numbers_print_as_java_does() {
        let mut l = vec![3, 1, 2, 10];
        assert_eq!(
            results(16_000_000.0, &mut l),
            "Avg latency: 4.0000 ms\nPercentiles: 50th = 3, 99th = 10, 99.9th = 10\n"
        );
        assert_eq!(java_compat::text::double_to_string(1.0), "1.0");
        assert_eq!(java_compat::text::double_to_string(0.523), "0.523");
        assert_eq!(java_compat::text::double_to_string(0.0001), "1.0E-4");
    }
}
