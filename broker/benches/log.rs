//! Storage benchmarks: append throughput of 1 KiB-record batches with the flush policy off
//! (page cache, Kafka's default) and on (`flush.messages=1`, group commit with concurrent
//! producers, and with one producer keeping 5 appends in flight as a pipelining connection
//! does), sequential read throughput, and a consumer tailing small batches. Run:
//! `cargo bench -p broker --bench log`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use broker::log::{AppendOrigin, DurableLog, LogConfig, PartitionLog};
use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

const RECORD_BYTES: usize = 1024;
const RECORDS_PER_BATCH: usize = 16;

/// One producer batch of `RECORDS_PER_BATCH` records with 1 KiB values.
fn producer_batch() -> Vec<u8> {
    let records: Vec<Record> = (0..RECORDS_PER_BATCH)
        .map(|i| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            sequence: -1i32.wrapping_add(i as i32),
            timestamp: 1_700_000_000_000 + i as i64,
            key: None,
            value: Some(Bytes::from(vec![b'x'; RECORD_BYTES])),
            headers: Default::default(),
        })
        .collect();
    let mut buf = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression: Compression::None,
    };
    if let Err(e) = RecordBatchEncoder::encode(&mut buf, &records, &options) {
        panic!("encoding the benchmark batch: {e}");
    }
    buf.to_vec()
}

fn bench_config() -> LogConfig {
    LogConfig {
        segment_bytes: 64 << 20,
        retention_bytes: Some(256 << 20),
        retention_ms: None,
        ..LogConfig::default()
    }
}

/// A scratch directory inside the target directory (cargo's CARGO_TARGET_TMPDIR for benches),
/// on the build disk rather than a possibly RAM-backed /tmp, so fsyncs are real.
fn scratch_dir() -> tempfile::TempDir {
    let base = option_env!("CARGO_TARGET_TMPDIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let _ = std::fs::create_dir_all(&base);
    match tempfile::tempdir_in(&base) {
        Ok(d) => d,
        Err(e) => panic!("creating a scratch directory in {}: {e}", base.display()),
    }
}

fn append_page_cache(c: &mut Criterion) {
    let batch = producer_batch();
    let dir = scratch_dir();
    let mut log = match PartitionLog::open(dir.path(), bench_config()) {
        Ok(l) => l,
        Err(e) => panic!("open: {e}"),
    };
    // As a produce request's frame: the log copies only the batch's header out of it.
    let payload = Bytes::from(batch.clone());
    let mut appended = 0u64;
    let mut group = c.benchmark_group("append");
    group.throughput(Throughput::Bytes(batch.len() as u64));
    group.bench_function("page_cache_16x1KiB_batch", |b| {
        b.iter(|| {
            if let Err(e) = log.append_bytes(payload.clone(), 0, 0, AppendOrigin::Client) {
                panic!("append: {e}");
            }
            appended += 1;
            if appended == 4096 {
                // Keeps the disk footprint bounded however long criterion runs.
                appended = 0;
                let end = log.log_end_offset();
                let _ = log.apply_retention(0, end);
            }
        })
    });
    group.finish();
}

fn append_fsync_each(c: &mut Criterion) {
    let batch = producer_batch();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => panic!("runtime: {e}"),
    };
    let mut group = c.benchmark_group("append_fsync_each");
    for producers in [1usize, 16] {
        let dir = scratch_dir();
        let config = LogConfig {
            flush_interval_messages: 1,
            ..bench_config()
        };
        let log = runtime.block_on(async {
            match DurableLog::open(dir.path(), config) {
                Ok(l) => Arc::new(l),
                Err(e) => panic!("open: {e}"),
            }
        });
        group.throughput(Throughput::Bytes((batch.len() * producers) as u64));
        group.bench_function(format!("{producers}_concurrent_producers"), |b| {
            b.iter_custom(|iters| {
                let log = log.clone();
                let batch = batch.clone();
                runtime.block_on(async move {
                    let start = Instant::now();
                    let mut tasks = Vec::new();
                    for _ in 0..producers {
                        let log = log.clone();
                        let batch = batch.clone();
                        tasks.push(tokio::spawn(async move {
                            for _ in 0..iters {
                                if let Err(e) = log.append(Bytes::from(batch.clone()), 0).await {
                                    panic!("append: {e}");
                                }
                            }
                        }));
                    }
                    for t in tasks {
                        let _ = t.await;
                    }
                    start.elapsed()
                })
            })
        });
        let fsyncs = log.flush_count();
        let appends = log.log_end_offset() / RECORDS_PER_BATCH as i64;
        eprintln!("append_fsync_each/{producers}: {appends} appends shared {fsyncs} flush rounds");
        runtime.block_on(log.close());
    }
    // One producer with 5 requests in flight (librdkafka's idempotent default), as a pipelining
    // connection starts them: each append is written in turn, and its answer waits for the
    // fsync while the next ones are written.
    let dir = scratch_dir();
    let config = LogConfig {
        flush_interval_messages: 1,
        ..bench_config()
    };
    let log = runtime.block_on(async {
        match DurableLog::open(dir.path(), config) {
            Ok(l) => Arc::new(l),
            Err(e) => panic!("open: {e}"),
        }
    });
    group.throughput(Throughput::Bytes(batch.len() as u64));
    group.bench_function("1_producer_5_in_flight", |b| {
        b.iter_custom(|iters| {
            let log = log.clone();
            let batch = Bytes::from(batch.clone());
            runtime.block_on(async move {
                let start = Instant::now();
                let mut in_flight = std::collections::VecDeque::new();
                for _ in 0..iters {
                    if in_flight.len() == 5 {
                        if let Some(oldest) = in_flight.pop_front() {
                            let _ = oldest.await;
                        }
                    }
                    let pending = match log.start_append(batch.clone(), 0).await {
                        Ok(p) => p,
                        Err(e) => panic!("append: {e}"),
                    };
                    in_flight.push_back(tokio::spawn(pending.durable()));
                }
                for t in in_flight {
                    let _ = t.await;
                }
                start.elapsed()
            })
        })
    });
    let fsyncs = log.flush_count();
    let appends = log.log_end_offset() / RECORDS_PER_BATCH as i64;
    eprintln!(
        "append_fsync_each/1_producer_5_in_flight: {appends} appends shared {fsyncs} flush rounds"
    );
    runtime.block_on(log.close());
    group.finish();
}

/// A consumer tailing a partition of small batches: every new batch is read on its own, as a
/// long-polling fetch woken by each append reads it.
fn read_tail(c: &mut Criterion) {
    let dir = scratch_dir();
    let mut log = match PartitionLog::open(dir.path(), bench_config()) {
        Ok(l) => l,
        Err(e) => panic!("open: {e}"),
    };
    let small = {
        let mut buf = BytesMut::new();
        let record = Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: 0,
            sequence: -1,
            timestamp: 1_700_000_000_000,
            key: None,
            value: Some(Bytes::from(vec![b'x'; 200])),
            headers: Default::default(),
        };
        let options = RecordEncodeOptions {
            version: 2,
            compression: Compression::None,
        };
        if let Err(e) = RecordBatchEncoder::encode(&mut buf, [record].iter(), &options) {
            panic!("encoding the benchmark batch: {e}");
        }
        buf.freeze()
    };
    let mut group = c.benchmark_group("read");
    group.throughput(Throughput::Elements(1));
    let mut reads = 0u64;
    let mut fetched = 0u64;
    group.bench_function("tail_one_200B_batch", |b| {
        b.iter(|| {
            if let Err(e) = log.append_bytes(small.clone(), 0, 0, AppendOrigin::Client) {
                panic!("append: {e}");
            }
            let offset = log.log_end_offset() - 1;
            match log.read(offset, 1 << 20) {
                Ok(slice) => {
                    reads += slice.reads as u64;
                    fetched += 1;
                    slice.records.len()
                }
                Err(e) => panic!("read at {offset}: {e}"),
            }
        })
    });
    eprintln!(
        "read/tail_one_200B_batch: {reads} preads for {fetched} reads ({:.2} per read)",
        reads as f64 / fetched.max(1) as f64
    );
    group.finish();
}

fn read_sequential(c: &mut Criterion) {
    let batch = producer_batch();
    let dir = scratch_dir();
    let mut log = match PartitionLog::open(dir.path(), bench_config()) {
        Ok(l) => l,
        Err(e) => panic!("open: {e}"),
    };
    // 64 MiB of log across several segments.
    let batches = (64 << 20) / batch.len();
    let payload = Bytes::from(batch.clone());
    for _ in 0..batches {
        if let Err(e) = log.append_bytes(payload.clone(), 0, 0, AppendOrigin::Client) {
            panic!("append: {e}");
        }
    }
    let total = log.size_bytes();
    let mut group = c.benchmark_group("read");
    group.throughput(Throughput::Bytes(total));
    group.sample_size(10);
    group.bench_function("sequential_1MiB_fetches_64MiB", |b| {
        b.iter_batched(
            || (),
            |()| {
                let mut offset = log.log_start_offset();
                let mut read = 0u64;
                while offset < log.log_end_offset() {
                    let slice = match log.read(offset, 1 << 20) {
                        Ok(s) => s,
                        Err(e) => panic!("read at {offset}: {e}"),
                    };
                    read += slice.records.len() as u64;
                    // Next offset: after the last batch returned (whole batches of 16 records).
                    offset += (slice.records.len() / batch.len() * RECORDS_PER_BATCH) as i64;
                }
                read
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = append_page_cache, append_fsync_each, read_sequential, read_tail
}
criterion_main!(benches);
