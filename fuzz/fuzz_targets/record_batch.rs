//! Record batches as the broker takes them on produce: a v0/v1 message set is up-converted
//! (`legacy_message_set::up_convert`, what Produce v0-v2 does), then `PartitionLog::append`
//! checks structure and CRC, applies Kafka's `LogValidator` rules, rebuilds batches with the
//! topic's `compression.type`, assigns offsets and writes the segment. The first input byte picks
//! the topic's compression type and timestamp type, so every codec path is reached. The logs live
//! in a temporary directory for the whole run. A panic is a finding.
#![no_main]

use std::collections::HashMap;
use std::sync::Mutex;

use broker::log::legacy_message_set;
use broker::log::{
    BrokerCompressionType, LogConfig, PartitionLog, TimestampRules, TimestampType,
    TopicCompression,
};
use libfuzzer_sys::fuzz_target;

struct Fixture {
    dir: tempfile::TempDir,
    logs: HashMap<u8, PartitionLog>,
}

static FIXTURE: Mutex<Option<Fixture>> = Mutex::new(None);

const CODECS: [BrokerCompressionType; 6] = [
    BrokerCompressionType::Producer,
    BrokerCompressionType::Uncompressed,
    BrokerCompressionType::Gzip,
    BrokerCompressionType::Snappy,
    BrokerCompressionType::Lz4,
    BrokerCompressionType::Zstd,
];

fn config(selector: u8) -> LogConfig {
    let codec = CODECS[usize::from(selector % 6)];
    let timestamp_type = if selector & 0x80 != 0 {
        TimestampType::LogAppendTime
    } else {
        TimestampType::CreateTime
    };
    LogConfig {
        // Small segments so rolls happen; fsync as the shipped server.properties does.
        segment_bytes: 1 << 20,
        flush_interval_messages: 1,
        timestamps: TimestampRules {
            timestamp_type,
            ..TimestampRules::default()
        },
        compression: TopicCompression {
            compression_type: codec,
            ..TopicCompression::default()
        },
        ..LogConfig::default()
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, records)) = data.split_first() else {
        return;
    };
    let selector = selector & 0x87; // 6 codecs x 2 timestamp types (bits 0-2 and 7)
    let mut guard = FIXTURE.lock().unwrap_or_else(|e| e.into_inner());
    let fixture = guard.get_or_insert_with(|| Fixture {
        dir: tempfile::Builder::new()
            .prefix("batch-fuzz")
            .tempdir_in("/dev/shm")
            .or_else(|_| tempfile::tempdir())
            .expect("a temporary directory"),
        logs: HashMap::new(),
    });
    let log = match fixture.logs.get_mut(&selector) {
        Some(log) => log,
        None => {
            let dir = fixture.dir.path().join(format!("fuzz-{selector}"));
            let log = PartitionLog::open(&dir, config(selector)).expect("a fresh log");
            fixture.logs.entry(selector).or_insert(log)
        }
    };
    let mut payload = if legacy_message_set::is_legacy(records) {
        match legacy_message_set::up_convert(records) {
            Ok(batch) => batch.to_vec(),
            Err(_) => return,
        }
    } else {
        records.to_vec()
    };
    let _ = log.append(&mut payload, 0, 1_700_000_000_000);
});
