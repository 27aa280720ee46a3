//! [`RecordSource`] over the client library's consumer.

use std::time::Duration;

use client::consumer::{Consumer, TimestampType};
use client::ClientError;

use crate::consume::RecordSource;
use crate::formatter::{RecordView, TimestampKind};

impl RecordSource for Consumer {
    async fn poll(&mut self, timeout: Duration) -> Result<Vec<RecordView>, ClientError> {
        Ok(Consumer::poll(self, timeout)
            .await?
            .into_iter()
            .map(|r| RecordView {
                topic: r.topic,
                partition: r.partition,
                offset: r.offset,
                // Kafka marks a record without a timestamp with -1 (NO_TIMESTAMP).
                timestamp_kind: if r.timestamp < 0 {
                    TimestampKind::NoTimestamp
                } else {
                    match r.timestamp_type {
                        TimestampType::CreateTime => TimestampKind::CreateTime,
                        TimestampType::LogAppendTime => TimestampKind::LogAppendTime,
                    }
                },
                timestamp: r.timestamp,
                key: r.key.map(|b| b.to_vec()),
                value: r.value.map(|b| b.to_vec()),
                headers: r
                    .headers
                    .into_iter()
                    .map(|(k, v)| (k, v.map(|b| b.to_vec())))
                    .collect(),
            })
            .collect())
    }
}
