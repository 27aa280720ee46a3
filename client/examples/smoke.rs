//! Manual smoke test against a running broker: `cargo run -p client --example smoke -- host:port`.
//! Creates a topic, describes it, produces keyed records with every codec (idempotent) and reads
//! them back from the beginning.

use std::time::Duration;

use client::{
    format_topic_id, Admin, Compression, Consumer, ConsumerConfig, NewTopic, Producer,
    ProducerConfig, ProducerRecord, StartOffset,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let bootstrap = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9092".to_string());
    let topic = format!("smoke-{}", std::process::id());
    let admin = Admin::connect(&bootstrap, "smoke-admin").await?;
    admin
        .create_topic(NewTopic {
            name: topic.clone(),
            num_partitions: Some(3),
            replication_factor: Some(1),
            ..Default::default()
        })
        .await?;
    println!("created {topic}");
    match admin
        .create_topic(NewTopic {
            name: topic.clone(),
            num_partitions: Some(3),
            replication_factor: Some(1),
            ..Default::default()
        })
        .await
    {
        Ok(()) => println!("second create unexpectedly succeeded"),
        Err(e) => println!("second create: {e} (code {:?})", e.code()),
    }
    let names: Vec<String> = admin
        .list_topics()
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect();
    println!("topics: {names:?}");
    for d in admin.describe_topics(std::slice::from_ref(&topic)).await? {
        println!(
            "{} id {} partitions {:?}",
            d.name,
            format_topic_id(&d.topic_id),
            d.partitions
        );
    }
    let configs = admin.describe_topic_configs(&topic).await?;
    println!(
        "{} configs, overrides: {:?}",
        configs.len(),
        configs.iter().filter(|c| !c.is_default).collect::<Vec<_>>()
    );
    println!("brokers: {:?}", admin.live_broker_ids().await?);

    let mut total = 0;
    for compression in [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ] {
        let producer = Producer::new(ProducerConfig {
            bootstrap_servers: bootstrap.clone(),
            compression,
            linger_ms: 5,
            ..Default::default()
        })
        .await?;
        let mut futures = Vec::new();
        for i in 0..20 {
            let mut r = ProducerRecord::new(&topic, format!("{compression:?}-{i}"))
                .with_key(format!("key-{i}"));
            r.headers
                .push(("h".to_string(), Some(format!("{i}").into())));
            futures.push(producer.send(r).await?);
            total += 1;
        }
        producer.flush().await?;
        for f in futures {
            let md = f.await?;
            if md.offset < 0 {
                anyhow::bail!("no offset for {md:?}");
            }
        }
        producer.close().await?;
        println!("produced 20 with {compression:?}");
    }

    let mut consumer = Consumer::new(ConsumerConfig {
        bootstrap_servers: bootstrap.clone(),
        ..Default::default()
    })
    .await?;
    let partitions = consumer.partitions_for(&topic).await?;
    consumer
        .assign(
            partitions
                .iter()
                .map(|p| (topic.clone(), *p, StartOffset::Earliest))
                .collect(),
        )
        .await?;
    let mut got = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while got < total && std::time::Instant::now() < deadline {
        let records = consumer.poll(Duration::from_millis(500)).await?;
        got += records.len();
    }
    println!("consumed {got} of {total}");
    // SMOKE_KEEP=1 leaves the topic for other clients (kcat) to read.
    if std::env::var_os("SMOKE_KEEP").is_none() {
        admin.delete_topic(&topic).await?;
        println!("deleted {topic}");
    }
    if got != total {
        anyhow::bail!("consumed {got}, expected {total}");
    }
    Ok(())
}
