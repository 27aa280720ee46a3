//! Client-only throughput against the in-process fake broker (no disk, no real broker), to compare
//! producer and consumer changes: `cargo run -p client --release --example throughput --
//! [records] [value-bytes] [partitions] [compression] [broker-delay-ms] [poll-work-ms]
//! [max-poll-records]`: the fake broker answers each Produce and Fetch `broker-delay-ms` after the
//! request came (a round trip); the consumer spends `poll-work-ms` on each batch `poll` returns
//! (an application at work, during which a pipelined fetch travels). Produces `records` unkeyed records
//! (idempotent, acks=all, Kafka's defaults otherwise), waits for every acknowledgement, then reads
//! them all back with an assigned consumer from the earliest offset.

use std::time::{Duration, Instant};

use bytes::Bytes;
use client::producer::parse_compression;
use client::{Consumer, ConsumerConfig, Producer, ProducerConfig, ProducerRecord, StartOffset};
use test_broker::{FakeBroker, FakeBrokerOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let records: usize = args.get(1).map_or(Ok(200_000), |a| a.parse())?;
    let value_bytes: usize = args.get(2).map_or(Ok(100), |a| a.parse())?;
    let partitions: i32 = args.get(3).map_or(Ok(1), |a| a.parse())?;
    let compression = parse_compression(
        "compression.type",
        args.get(4).map_or("none", String::as_str),
    )?;
    let delay_ms: u64 = args.get(5).map_or(Ok(0), |a| a.parse())?;
    let work_ms: u64 = args.get(6).map_or(Ok(0), |a| a.parse())?;
    let max_poll_records: usize = args.get(7).map_or(Ok(500), |a| a.parse())?;
    let broker = FakeBroker::start(FakeBrokerOptions {
        topics: vec![("bench".to_string(), partitions)],
        init_producer_id: true,
        response_delay: Duration::from_millis(delay_ms),
        ..Default::default()
    })
    .await;
    let producer = Producer::new(ProducerConfig {
        bootstrap_servers: broker.addr(),
        compression,
        ..Default::default()
    })
    .await?;
    let value = Bytes::from(vec![b'x'; value_bytes]);
    let start = Instant::now();
    let mut pending = Vec::with_capacity(records);
    for _ in 0..records {
        pending.push(
            producer
                .send(ProducerRecord::new("bench", value.clone()))
                .await?,
        );
    }
    producer.flush().await?;
    for f in pending {
        f.await?;
    }
    report("produce", records, value_bytes, start.elapsed());
    producer.close().await?;

    let mut consumer = Consumer::new(ConsumerConfig {
        bootstrap_servers: broker.addr(),
        max_poll_records,
        ..Default::default()
    })
    .await?;
    consumer
        .assign(
            (0..partitions)
                .map(|p| ("bench".to_string(), p, StartOffset::Earliest))
                .collect(),
        )
        .await?;
    let start = Instant::now();
    let mut seen = 0;
    let mut bytes = 0usize;
    while seen < records {
        let records = consumer.poll(Duration::from_secs(5)).await?;
        if !records.is_empty() && work_ms > 0 {
            tokio::time::sleep(Duration::from_millis(work_ms)).await;
        }
        for r in records {
            bytes += r.value.as_ref().map_or(0, |v| v.len());
            seen += 1;
        }
    }
    assert_eq!(bytes, records * value_bytes);
    report("consume", records, value_bytes, start.elapsed());
    consumer.close().await;
    Ok(())
}

fn report(what: &str, records: usize, value_bytes: usize, took: Duration) {
    let secs = took.as_secs_f64().max(1e-9);
    println!(
        "{what}: {records} records of {value_bytes} bytes in {:.3} s: {:.0} records/s, {:.1} MB/s",
        secs,
        records as f64 / secs,
        (records * value_bytes) as f64 / secs / 1e6
    );
}
