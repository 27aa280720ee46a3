//! [`Sink`] over the client library's producer.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use client::producer::{Producer, ProducerRecord};
use client::ClientError;

use crate::line_reader::LineRecord;
use crate::send_loop::Sink;

impl Sink for Producer {
    type Delivery = Pin<Box<dyn Future<Output = Result<(), ClientError>> + Send>>;

    async fn send(&self, topic: &str, record: LineRecord) -> Result<Self::Delivery, ClientError> {
        let record = ProducerRecord {
            topic: topic.to_string(),
            partition: None,
            key: record.key.map(Bytes::from),
            value: record.value.map(Bytes::from),
            headers: record
                .headers
                .into_iter()
                .map(|(k, v)| (k, v.map(Bytes::from)))
                .collect(),
            timestamp: None,
        };
        let delivery = Producer::send(self, record).await?;
        Ok(Box::pin(async move { delivery.await.map(|_| ()) }))
    }

    async fn flush(&self) -> Result<(), ClientError> {
        Producer::flush(self).await
    }
}
