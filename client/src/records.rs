//! Record batches (magic 2) in and out, without I/O.
//!
//! Both directions are our own walk over the bytes, using kafka-protocol's codecs (gzip, snappy,
//! lz4, zstd) for the compressed part:
//! - decoding, because the crate's `RecordBatchDecoder` trusts the counts it reads (a forged
//!   record or header count makes it reserve gigabytes and abort the process); here every count
//!   is checked against the bytes actually present before anything is allocated;
//! - encoding, because the crate's `RecordBatchEncoder` keeps headers in a map (a repeated header
//!   key, which Kafka allows, would be lost) and splits a batch whenever offset - sequence
//!   changes. Its decoder checks our output in the tests.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::compression::{self as cmpr, Compressor, Decompressor};
use kafka_protocol::records::{Compression, TimestampType};

use common::record::batch::{
    BatchHeader, BATCH_HEADER_LEN, COMPRESSION_MASK, CONTROL_FLAG, CRC_AT, CRC_START, LOG_OVERHEAD,
    MAGIC_V2, TIMESTAMP_TYPE_FLAG, TRANSACTIONAL_FLAG,
};
use common::record::varint::{
    self, size_of_varint, size_of_varlong, write_varint as put_varint, write_varlong as put_varlong,
};

use crate::error::ClientError;

/// Bytes of a v2 batch header before the first record (`RECORD_BATCH_OVERHEAD`).
pub const BATCH_OVERHEAD: usize = BATCH_HEADER_LEN;
/// The fewest bytes one encoded record can take: length, attributes, timestamp delta, offset
/// delta, key length, value length, header count — one byte each at minimum.
const MIN_RECORD_SIZE: usize = 7;
/// The fewest bytes one header takes: key length and value length.
const MIN_HEADER_SIZE: usize = 2;

/// A record as the producer hands it to the encoder.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingRecord {
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<(String, Option<Bytes>)>,
    pub timestamp: i64,
}

impl OutgoingRecord {
    /// An upper-bound estimate of the record's encoded size, for batch sizing.
    pub fn estimated_size(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(k, v)| k.len() + v.as_ref().map_or(0, |v| v.len()) + 10)
            .sum();
        self.key.as_ref().map_or(0, |k| k.len())
            + self.value.as_ref().map_or(0, |v| v.len())
            + headers
            + 21
    }
}

/// `DefaultRecord.MAX_RECORD_OVERHEAD`: the most bytes a record's length, attributes, timestamp
/// delta and offset delta can take (5 + 1 + 10 + 5).
const MAX_RECORD_OVERHEAD: usize = 21;

/// A length-prefixed nullable field: the varint length (-1 for null) and the bytes.
fn size_of_field(len: Option<usize>) -> usize {
    match len {
        None => 1,
        Some(n) => size_of_varint(i32::try_from(n).unwrap_or(i32::MAX)) + n,
    }
}

impl OutgoingRecord {
    /// The size Kafka's producer checks against `max.request.size` and `buffer.memory` before
    /// queueing a record: `AbstractRecords.estimateSizeInBytesUpperBound` for magic 2, i.e.
    /// `RECORD_BATCH_OVERHEAD` (61) + `MAX_RECORD_OVERHEAD` (21) + the varint-prefixed key,
    /// value and header fields (`DefaultRecord.recordSizeUpperBound`). A 2,000,000-byte value
    /// without key or headers gives 2,000,088.
    pub fn size_in_bytes_upper_bound(&self) -> usize {
        let mut size = BATCH_OVERHEAD + MAX_RECORD_OVERHEAD;
        size += size_of_field(self.key.as_ref().map(|k| k.len()));
        size += size_of_field(self.value.as_ref().map(|v| v.len()));
        size += size_of_varint(i32::try_from(self.headers.len()).unwrap_or(i32::MAX));
        for (key, value) in &self.headers {
            size += size_of_field(Some(key.len()));
            size += size_of_field(value.as_ref().map(|v| v.len()));
        }
        size
    }
}

/// Producer identity written into a batch header; all -1 for a non-idempotent producer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerIdentity {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
}

impl ProducerIdentity {
    pub const NONE: ProducerIdentity = ProducerIdentity {
        producer_id: -1,
        producer_epoch: -1,
        base_sequence: -1,
    };
}

/// The levels of KIP-390 that reach the compressor: `compression.gzip.level` (1-9, or -1 for
/// zlib's default 6), `compression.lz4.level` (1-17) and `compression.zstd.level`
/// (-131072-22). Snappy has no level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompressionLevels {
    pub gzip: i32,
    pub lz4: i32,
    pub zstd: i32,
}

impl CompressionLevels {
    /// Kafka's defaults: `GzipCompression.DEFAULT_LEVEL` (-1), `Lz4Compression.DEFAULT_LEVEL`
    /// (9), `ZstdCompression.DEFAULT_LEVEL` (3).
    pub const KAFKA_DEFAULTS: CompressionLevels = CompressionLevels {
        gzip: -1,
        lz4: 9,
        zstd: 3,
    };
}

impl Default for CompressionLevels {
    fn default() -> Self {
        CompressionLevels::KAFKA_DEFAULTS
    }
}

/// Encodes records as one v2 batch with offsets 0..n (the broker assigns real offsets), laid
/// out as the Java client writes it: base timestamp = the first record's, header keys kept in
/// order even when repeated, base sequence as given (-1 without idempotence).
pub fn encode_batch(
    records: &[OutgoingRecord],
    compression: Compression,
    identity: ProducerIdentity,
) -> Result<Bytes, ClientError> {
    encode_batch_with(records, compression, identity, false)
}

/// [`encode_batch`] with the batch's transactional attribute (0x10) set when `transactional`:
/// a transactional producer's batches carry it, so the broker counts them as part of the
/// producer's open transaction (Kafka's `MemoryRecordsBuilder` with `isTransactional`).
pub fn encode_batch_with(
    records: &[OutgoingRecord],
    compression: Compression,
    identity: ProducerIdentity,
    transactional: bool,
) -> Result<Bytes, ClientError> {
    encode_batch_leveled(
        records,
        compression,
        CompressionLevels::KAFKA_DEFAULTS,
        identity,
        transactional,
    )
}

/// [`encode_batch_with`] compressing at `levels` (the producer's `compression.<codec>.level`).
///
/// Records are written straight into the output buffer (uncompressed) or into one body buffer
/// (compressed), each record's length computed up front, so a batch costs one or two buffer
/// allocations whatever its record count.
pub fn encode_batch_leveled(
    records: &[OutgoingRecord],
    compression: Compression,
    levels: CompressionLevels,
    identity: ProducerIdentity,
    transactional: bool,
) -> Result<Bytes, ClientError> {
    let (Some(first), Ok(count)) = (records.first(), i32::try_from(records.len())) else {
        return Err(ClientError::Protocol(
            "a batch holds between 1 and 2^31-1 records".to_string(),
        ));
    };
    let base_timestamp = first.timestamp;
    let max_timestamp = records
        .iter()
        .map(|r| r.timestamp)
        .max()
        .unwrap_or(base_timestamp);
    let body_estimate: usize = records.iter().map(OutgoingRecord::estimated_size).sum();
    let mut out = BytesMut::with_capacity(BATCH_OVERHEAD + body_estimate);
    out.put_i64(0); // base offset
    out.put_i32(0); // batch length, filled in below
    out.put_i32(-1); // partition leader epoch: the broker sets it
    out.put_i8(MAGIC_V2); // magic
    out.put_u32(0); // CRC, filled in below
                    // attributes: codec, CreateTime, the transactional bit
    let attributes = compression as i16 | if transactional { TRANSACTIONAL_FLAG } else { 0 };
    out.put_i16(attributes);
    out.put_i32(count - 1); // last offset delta
    out.put_i64(base_timestamp);
    out.put_i64(max_timestamp);
    out.put_i64(identity.producer_id);
    out.put_i16(identity.producer_epoch);
    out.put_i32(identity.base_sequence);
    out.put_i32(count);
    if compression == Compression::None {
        put_records(&mut out, records, base_timestamp)?;
    } else {
        let mut body = BytesMut::with_capacity(body_estimate);
        put_records(&mut body, records, base_timestamp)?;
        compress_into(&mut out, &body, compression, levels)?;
    }
    let batch_length = len_i32(out.len() - LOG_OVERHEAD)?;
    out[8..12].copy_from_slice(&batch_length.to_be_bytes());
    // CRC-32C covers everything from the attributes to the end.
    let crc = crc32c::crc32c(&out[CRC_START..]);
    out[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
    Ok(out.freeze())
}

/// The records of a batch, each `length varint` + body, offset deltas 0, 1, ...
fn put_records(
    out: &mut BytesMut,
    records: &[OutgoingRecord],
    base_timestamp: i64,
) -> Result<(), ClientError> {
    for (i, r) in records.iter().enumerate() {
        let offset_delta = len_i32(i)?;
        let timestamp_delta = r.timestamp.wrapping_sub(base_timestamp);
        let mut size = 1 + size_of_varlong(timestamp_delta) + size_of_varint(offset_delta);
        size += size_of_nullable(r.key.as_deref())?;
        size += size_of_nullable(r.value.as_deref())?;
        size += size_of_varint(len_i32(r.headers.len())?);
        for (key, value) in &r.headers {
            size += size_of_nullable(Some(key.as_bytes()))?;
            size += size_of_nullable(value.as_deref())?;
        }
        out.reserve(size + 5);
        put_varint(out, len_i32(size)?);
        out.put_i8(0); // attributes: unused
        put_varlong(out, timestamp_delta);
        put_varint(out, offset_delta);
        put_nullable_bytes(out, r.key.as_deref())?;
        put_nullable_bytes(out, r.value.as_deref())?;
        put_varint(out, len_i32(r.headers.len())?);
        for (key, value) in &r.headers {
            put_nullable_bytes(out, Some(key.as_bytes()))?;
            put_nullable_bytes(out, value.as_deref())?;
        }
    }
    Ok(())
}

/// Bytes a length-prefixed nullable field takes.
fn size_of_nullable(bytes: Option<&[u8]>) -> Result<usize, ClientError> {
    Ok(match bytes {
        None => 1,
        Some(b) => size_of_varint(len_i32(b.len())?) + b.len(),
    })
}

fn len_i32(len: usize) -> Result<i32, ClientError> {
    i32::try_from(len)
        .map_err(|_| ClientError::Protocol(format!("{len} bytes is too large for a record batch")))
}

/// Appends `body` compressed with `compression` at `levels` to `out`, framed as Kafka's Java
/// client frames each codec: gzip as a gzip member (`GZIPOutputStream`), snappy in xerial's
/// blocks (`SnappyOutputStream`, kafka-protocol's encoder), lz4 as an LZ4 frame of independent
/// 64 KiB blocks without content checksum (`KafkaLZ4BlockOutputStream`), zstd as one zstd frame.
fn compress_into(
    out: &mut BytesMut,
    body: &[u8],
    compression: Compression,
    levels: CompressionLevels,
) -> Result<(), ClientError> {
    use std::io::Write;
    let failed = |e: &dyn std::fmt::Display| {
        ClientError::Protocol(format!("compressing with {compression:?}: {e:#}"))
    };
    match compression {
        Compression::None => out.extend_from_slice(body),
        Compression::Gzip => {
            // -1 is zlib's default (6), as `Deflater.DEFAULT_COMPRESSION`.
            let level = match u32::try_from(levels.gzip) {
                Ok(l) if (1..=9).contains(&l) => flate2::Compression::new(l),
                _ => flate2::Compression::default(),
            };
            let mut e = flate2::write::GzEncoder::new((&mut *out).writer(), level);
            e.write_all(body).map_err(|e| failed(&e))?;
            e.finish().map_err(|e| failed(&e))?;
        }
        Compression::Snappy => {
            cmpr::Snappy::compress(out, |b: &mut BytesMut| {
                b.extend_from_slice(body);
                Ok(())
            })
            .map_err(|e| failed(&e))?;
        }
        Compression::Lz4 => {
            let level = u32::try_from(levels.lz4.clamp(1, 17)).unwrap_or(9);
            let mut e = lz4::EncoderBuilder::new()
                .level(level)
                .block_size(lz4::BlockSize::Max64KB)
                .block_mode(lz4::BlockMode::Independent)
                .checksum(lz4::ContentChecksum::NoChecksum)
                .build((&mut *out).writer())
                .map_err(|e| failed(&e))?;
            e.write_all(body).map_err(|e| failed(&e))?;
            let (_, result) = e.finish();
            result.map_err(|e| failed(&e))?;
        }
        Compression::Zstd => {
            zstd::stream::copy_encode(body, (&mut *out).writer(), levels.zstd)
                .map_err(|e| failed(&e))?;
        }
    }
    Ok(())
}

fn put_nullable_bytes(buf: &mut BytesMut, bytes: Option<&[u8]>) -> Result<(), ClientError> {
    match bytes {
        None => put_varint(buf, -1),
        Some(b) => {
            put_varint(buf, len_i32(b.len())?);
            buf.extend_from_slice(b);
        }
    }
    Ok(())
}

/// A record read back from a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedRecord {
    pub offset: i64,
    pub timestamp: i64,
    pub timestamp_type: TimestampType,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<(String, Option<Bytes>)>,
}

/// One batch read from a fetch response.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedBatch {
    pub base_offset: i64,
    /// base offset + last offset delta: the next fetch starts after this even if the batch's
    /// records were compacted away or it is a control batch.
    pub last_offset: i64,
    pub control: bool,
    /// The batch's producer id (-1 when the producer was not idempotent).
    pub producer_id: i64,
    /// The transactional attribute: the batch belongs to a transaction of `producer_id`.
    pub transactional: bool,
    /// For a control batch, the type of its end transaction marker (`ControlRecordType`:
    /// 0 ABORT, 1 COMMIT) read from the first record's key; `None` otherwise or if unreadable.
    pub control_type: Option<i16>,
    /// Empty for control batches (transaction markers are not user records).
    pub records: Vec<DecodedRecord>,
}

/// `ControlRecordType.ABORT` of an end transaction marker's key.
pub const CONTROL_TYPE_ABORT: i16 = 0;
/// `ControlRecordType.COMMIT` of an end transaction marker's key.
pub const CONTROL_TYPE_COMMIT: i16 = 1;

fn corrupt(msg: impl std::fmt::Display) -> ClientError {
    ClientError::kafka(2, Some(&format!("Corrupt record batch: {msg}")))
}

/// Decodes every complete batch in a fetch response's `records` bytes. A batch cut short at the
/// end (the broker truncates at `max_bytes`) is not an error: it is dropped and fetched again
/// from its start next time.
pub fn decode_batches(data: Bytes) -> Result<Vec<DecodedBatch>, ClientError> {
    batches(data).collect()
}

/// [`decode_batches`] one batch at a time, so a consumer never holds every decoded batch of a
/// response at once. Ends after the first error.
pub fn batches(data: Bytes) -> Batches {
    Batches {
        data,
        failed: false,
    }
}

/// The iterator of [`batches`]. Keys and values of uncompressed batches are slices of `data`
/// (no copy); a compressed batch is decompressed into one buffer its records slice.
pub struct Batches {
    data: Bytes,
    failed: bool,
}

impl Iterator for Batches {
    type Item = Result<DecodedBatch, ClientError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.data.len() < LOG_OVERHEAD {
            return None;
        }
        let data = &mut self.data;
        let base_offset = i64::from_be_bytes(fixed(&data[0..8]));
        let batch_length = i32::from_be_bytes(fixed(&data[8..12]));
        if batch_length < (BATCH_OVERHEAD - LOG_OVERHEAD) as i32 {
            self.failed = true;
            return Some(Err(corrupt(format!(
                "batch at offset {base_offset} has length {batch_length}"
            ))));
        }
        let total = LOG_OVERHEAD + batch_length as usize;
        if total > data.len() {
            return None; // partial trailing batch
        }
        let batch = data.split_to(total);
        let decoded = decode_one(batch);
        self.failed = decoded.is_err();
        Some(decoded)
    }
}

fn fixed<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[..N]);
    out
}

fn decode_one(batch: Bytes) -> Result<DecodedBatch, ClientError> {
    // The caller guarantees batch.len() >= BATCH_OVERHEAD.
    let header = BatchHeader::new(&batch[..]).map_err(corrupt)?;
    let base_offset = header.base_offset();
    let magic = header.magic();
    if magic != MAGIC_V2 {
        return Err(corrupt(format!(
            "batch at offset {base_offset} has unsupported magic {magic}"
        )));
    }
    let stored_crc = header.crc();
    let actual_crc = crc32c::crc32c(&batch[CRC_START..]);
    if stored_crc != actual_crc {
        return Err(corrupt(format!(
            "batch at offset {base_offset} fails its CRC (stored {stored_crc:#x}, computed {actual_crc:#x})"
        )));
    }
    let attributes = header.attributes();
    let base_timestamp = header.base_timestamp();
    let max_timestamp = header.max_timestamp();
    let record_count = header.records_count();
    let control = attributes & CONTROL_FLAG != 0;
    let log_append_time = attributes & TIMESTAMP_TYPE_FLAG != 0;
    let last_offset = header.last_offset();
    let producer_id = header.producer_id();
    let transactional = header.is_transactional();
    if control {
        return Ok(DecodedBatch {
            base_offset,
            last_offset,
            control,
            producer_id,
            transactional,
            control_type: control_type(&batch, attributes),
            records: Vec::new(),
        });
    }
    if record_count < 0 {
        return Err(corrupt(format!(
            "batch at offset {base_offset} has record count {record_count}"
        )));
    }
    let compressed = batch.slice(BATCH_OVERHEAD..);
    let mut payload = decompress(compressed, attributes & COMPRESSION_MASK)
        .map_err(|e| corrupt(format!("batch at offset {base_offset}: {e}")))?;
    let record_count = record_count as usize;
    if record_count.saturating_mul(MIN_RECORD_SIZE) > payload.len() {
        return Err(corrupt(format!(
            "batch at offset {base_offset} claims {record_count} records in {} bytes",
            payload.len()
        )));
    }
    let timestamp_type = if log_append_time {
        TimestampType::LogAppend
    } else {
        TimestampType::Creation
    };
    let mut records = Vec::with_capacity(record_count);
    for _ in 0..record_count {
        let mut record = decode_record(&mut payload, base_offset, base_timestamp)
            .map_err(|e| corrupt(format!("batch at offset {base_offset}: {e}")))?;
        if log_append_time {
            record.timestamp = max_timestamp;
        }
        record.timestamp_type = timestamp_type;
        records.push(record);
    }
    Ok(DecodedBatch {
        base_offset,
        last_offset,
        control,
        producer_id,
        transactional,
        control_type: None,
        records,
    })
}

/// The marker type of a control batch: the key of its first record is `version int16, type
/// int16` (Kafka's `ControlRecordType.parse`). `None` if the record cannot be read.
fn control_type(batch: &Bytes, attributes: i16) -> Option<i16> {
    let payload = decompress(batch.slice(BATCH_OVERHEAD..), attributes & COMPRESSION_MASK).ok()?;
    let mut payload = payload;
    let record = decode_record(&mut payload, 0, 0).ok()?;
    let key = record.key?;
    if key.len() < 4 {
        return None;
    }
    Some(i16::from_be_bytes([key[2], key[3]]))
}

fn decompress(mut data: Bytes, codec: i16) -> Result<Bytes, String> {
    let copy = |b: &mut Bytes| -> anyhow::Result<Bytes> { Ok(b.clone()) };
    let result = match codec {
        0 => return Ok(data),
        1 => cmpr::Gzip::decompress(&mut data, copy),
        2 => cmpr::Snappy::decompress(&mut data, copy),
        3 => cmpr::Lz4::decompress(&mut data, copy),
        4 => cmpr::Zstd::decompress(&mut data, copy),
        other => return Err(format!("unknown compression codec {other}")),
    };
    result.map_err(|e| format!("decompressing: {e:#}"))
}

fn decode_record(
    buf: &mut Bytes,
    base_offset: i64,
    base_timestamp: i64,
) -> Result<DecodedRecord, String> {
    let length = read_varint(buf)?;
    if length < 0 || length as usize > buf.len() {
        return Err(format!(
            "record length {length} with {} bytes left",
            buf.len()
        ));
    }
    let mut rec = buf.split_to(length as usize);
    if rec.is_empty() {
        return Err("empty record".to_string());
    }
    rec.advance(1); // attributes: unused
    let timestamp_delta = read_varlong(&mut rec)?;
    let offset_delta = read_varint(&mut rec)?;
    let key = read_nullable_bytes(&mut rec)?;
    let value = read_nullable_bytes(&mut rec)?;
    let header_count = read_varint(&mut rec)?;
    if header_count < 0 || (header_count as usize).saturating_mul(MIN_HEADER_SIZE) > rec.len() {
        return Err(format!(
            "header count {header_count} with {} bytes left",
            rec.len()
        ));
    }
    let mut headers = Vec::with_capacity(header_count as usize);
    for _ in 0..header_count {
        let name = read_nullable_bytes(&mut rec)?.ok_or("null header key")?;
        // Java's `Utils.utf8`: malformed bytes become U+FFFD instead of failing the batch, so a
        // key written by a non-Java producer does not hide the records around it.
        let name = String::from_utf8_lossy(&name).into_owned();
        let value = read_nullable_bytes(&mut rec)?;
        headers.push((name, value));
    }
    Ok(DecodedRecord {
        offset: base_offset.saturating_add(i64::from(offset_delta)),
        timestamp: base_timestamp.saturating_add(timestamp_delta),
        timestamp_type: TimestampType::Creation,
        key,
        value,
        headers,
    })
}

fn read_nullable_bytes(buf: &mut Bytes) -> Result<Option<Bytes>, String> {
    let len = read_varint(buf)?;
    if len == -1 {
        return Ok(None);
    }
    if len < 0 || len as usize > buf.len() {
        return Err(format!("field length {len} with {} bytes left", buf.len()));
    }
    Ok(Some(buf.split_to(len as usize)))
}

/// Reads a varint with `read` (from `common::record::varint`) off the front of `buf`.
fn read_front<T>(
    buf: &mut Bytes,
    read: fn(&[u8], &mut usize) -> Result<T, varint::VarintError>,
) -> Result<T, String> {
    let mut at = 0;
    let value = read(buf, &mut at).map_err(|e| e.to_string())?;
    buf.advance(at);
    Ok(value)
}

/// Zig-zag varint (Kafka's `ByteUtils.readVarint`), at most 5 bytes.
fn read_varint(buf: &mut Bytes) -> Result<i32, String> {
    read_front(buf, varint::read_varint)
}

/// Zig-zag varlong, at most 10 bytes.
fn read_varlong(buf: &mut Bytes) -> Result<i64, String> {
    read_front(buf, varint::read_varlong)
}

#[cfg(test)]
mod tests {
    #[test]
    fn size_upper_bound_is_kafkas_estimate() {
        let big = super::OutgoingRecord {
            key: None,
            value: Some(bytes::Bytes::from(vec![b'x'; 2_000_000])),
            headers: vec![],
            timestamp: 0,
        };
        assert_eq!(big.size_in_bytes_upper_bound(), 2_000_088);
        let small = super::OutgoingRecord {
            key: Some(bytes::Bytes::from_static(b"k")),
            value: Some(bytes::Bytes::from_static(b"v")),
            headers: vec![("h".to_string(), None)],
            timestamp: 0,
        };
        // 61 + 21 + (1 + 1) + (1 + 1) + 1 + (1 + 1) + 1
        assert_eq!(small.size_in_bytes_upper_bound(), 90);
    }

    use super::*;
    use kafka_protocol::records::RecordBatchDecoder;

    fn sample(n: usize) -> Vec<OutgoingRecord> {
        (0..n)
            .map(|i| OutgoingRecord {
                key: if i % 2 == 0 {
                    Some(Bytes::from(format!("k{i}")))
                } else {
                    None
                },
                value: Some(Bytes::from(format!("value-{i}"))),
                headers: vec![
                    ("h".to_string(), Some(Bytes::from_static(b"v"))),
                    ("n".to_string(), None),
                ],
                timestamp: 1_700_000_000_000 + i as i64,
            })
            .collect()
    }

    fn all_codecs() -> [Compression; 5] {
        [
            Compression::None,
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ]
    }

    #[test]
    fn encoded_batch_round_trips_with_every_codec() {
        for codec in all_codecs() {
            let bytes = encode_batch(&sample(5), codec, ProducerIdentity::NONE).expect("encode");
            let batches = decode_batches(bytes).expect("decode");
            assert_eq!(batches.len(), 1, "{codec:?}");
            let recs = &batches[0].records;
            assert_eq!(recs.len(), 5);
            for (i, (r, s)) in recs.iter().zip(sample(5)).enumerate() {
                assert_eq!(r.offset, i as i64);
                assert_eq!(r.key, s.key);
                assert_eq!(r.value, s.value);
                assert_eq!(r.headers, s.headers);
                assert_eq!(r.timestamp, s.timestamp);
            }
        }
    }

    /// Compressible records whose compressed size depends on the effort spent.
    fn compressible(n: usize) -> Vec<OutgoingRecord> {
        (0..n)
            .map(|i| OutgoingRecord {
                key: Some(Bytes::from(format!("key-{}", i % 17))),
                value: Some(Bytes::from(format!(
                    "value {i} of {} {}",
                    i * 7919 % 1000,
                    "abc".repeat(i % 13)
                ))),
                headers: vec![],
                timestamp: 1_700_000_000_000 + i as i64,
            })
            .collect()
    }

    #[test]
    fn every_codec_round_trips_at_every_edge_level() {
        let records = compressible(300);
        let levels = [
            CompressionLevels::KAFKA_DEFAULTS,
            CompressionLevels {
                gzip: 1,
                lz4: 1,
                zstd: -131_072,
            },
            CompressionLevels {
                gzip: 9,
                lz4: 17,
                zstd: 22,
            },
        ];
        for codec in all_codecs() {
            for level in levels {
                let bytes =
                    encode_batch_leveled(&records, codec, level, ProducerIdentity::NONE, false)
                        .expect("encode");
                // Our decoder and the codec crate's both read it back.
                let mut copy = bytes.clone();
                let set = RecordBatchDecoder::decode(&mut copy).expect("codec decode");
                assert_eq!(set.compression, codec);
                let batches = decode_batches(bytes).expect("decode");
                let got = &batches[0].records;
                assert_eq!(got.len(), records.len(), "{codec:?} {level:?}");
                for (r, s) in got.iter().zip(&records) {
                    assert_eq!(
                        (&r.key, &r.value),
                        (&s.key, &s.value),
                        "{codec:?} {level:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_level_reaches_each_compressor() {
        let records = compressible(2000);
        let size = |codec, levels| {
            encode_batch_leveled(&records, codec, levels, ProducerIdentity::NONE, false)
                .expect("encode")
                .len()
        };
        let with = |gzip, lz4, zstd| CompressionLevels { gzip, lz4, zstd };
        let (gzip_fast, gzip_best) = (
            size(Compression::Gzip, with(1, 9, 3)),
            size(Compression::Gzip, with(9, 9, 3)),
        );
        assert!(
            gzip_best < gzip_fast,
            "gzip 9: {gzip_best}, gzip 1: {gzip_fast}"
        );
        // -1 is zlib's default, 6.
        assert_eq!(
            size(Compression::Gzip, with(-1, 9, 3)),
            size(Compression::Gzip, with(6, 9, 3))
        );
        let (lz4_fast, lz4_best) = (
            size(Compression::Lz4, with(-1, 1, 3)),
            size(Compression::Lz4, with(-1, 17, 3)),
        );
        assert!(lz4_best < lz4_fast, "lz4 17: {lz4_best}, lz4 1: {lz4_fast}");
        let (zstd_fast, zstd_best) = (
            size(Compression::Zstd, with(-1, 9, -50)),
            size(Compression::Zstd, with(-1, 9, 19)),
        );
        assert!(
            zstd_best < zstd_fast,
            "zstd 19: {zstd_best}, zstd -50: {zstd_fast}"
        );
    }

    #[test]
    fn unidempotent_batch_is_one_batch_with_no_sequence() {
        let bytes =
            encode_batch(&sample(4), Compression::None, ProducerIdentity::NONE).expect("encode");
        assert_eq!(i32::from_be_bytes(fixed(&bytes[57..61])), 4);
        assert_eq!(i64::from_be_bytes(fixed(&bytes[43..51])), -1);
        assert_eq!(i32::from_be_bytes(fixed(&bytes[53..57])), -1);
        assert_eq!(
            12 + i32::from_be_bytes(fixed(&bytes[8..12])) as usize,
            bytes.len()
        );
    }

    #[test]
    fn idempotent_batch_carries_producer_id_epoch_and_base_sequence() {
        let id = ProducerIdentity {
            producer_id: 42,
            producer_epoch: 3,
            base_sequence: 10,
        };
        let bytes = encode_batch(&sample(3), Compression::Lz4, id).expect("encode");
        assert_eq!(i64::from_be_bytes(fixed(&bytes[43..51])), 42);
        assert_eq!(i16::from_be_bytes(fixed(&bytes[51..53])), 3);
        assert_eq!(i32::from_be_bytes(fixed(&bytes[53..57])), 10);
        assert_eq!(i32::from_be_bytes(fixed(&bytes[57..61])), 3);
        // The codec's own decoder agrees.
        let mut b = bytes.clone();
        let set = RecordBatchDecoder::decode(&mut b).expect("codec decode");
        assert_eq!(set.records.len(), 3);
        assert_eq!(set.records[2].sequence, 12);
    }

    #[test]
    fn partial_trailing_batch_is_ignored() {
        let mut all = BytesMut::new();
        all.extend_from_slice(
            &encode_batch(&sample(2), Compression::None, ProducerIdentity::NONE).expect("a"),
        );
        let second =
            encode_batch(&sample(3), Compression::Gzip, ProducerIdentity::NONE).expect("b");
        all.extend_from_slice(&second[..second.len() - 5]);
        let batches = decode_batches(all.freeze()).expect("decode");
        assert_eq!(batches.len(), 1);
        // Fewer than 12 bytes of a header are also just a partial batch.
        assert!(decode_batches(Bytes::from_static(&[0, 0, 0]))
            .expect("tiny")
            .is_empty());
    }

    #[test]
    fn corrupted_crc_is_an_error() {
        let bytes = encode_batch(&sample(2), Compression::None, ProducerIdentity::NONE).expect("e");
        let mut v = bytes.to_vec();
        let last = v.len() - 1;
        v[last] ^= 0xff;
        let err = decode_batches(Bytes::from(v)).err();
        assert_eq!(err.and_then(|e| e.code()), Some(2));
    }

    /// Recomputes the CRC after a test edits a batch, so the forged field is what gets checked.
    fn fix_crc(v: &mut [u8]) {
        let crc = crc32c::crc32c(&v[21..]);
        v[17..21].copy_from_slice(&crc.to_be_bytes());
    }

    /// Java's consumer reads header keys with `Utils.utf8`, replacing malformed bytes: a key that
    /// is not UTF-8 (kcat and librdkafka send any bytes) must not fail its batch.
    #[test]
    fn a_header_key_that_is_not_utf8_reads_with_replacement_characters() {
        let rec = OutgoingRecord {
            key: Some(Bytes::from_static(b"k")),
            value: Some(Bytes::from_static(b"v")),
            headers: vec![("h#".to_string(), Some(Bytes::from_static(b"x")))],
            timestamp: 0,
        };
        let bytes = encode_batch(&[rec], Compression::None, ProducerIdentity::NONE).expect("e");
        let mut v = bytes.to_vec();
        let at = v.iter().rposition(|b| *b == b'#').expect("the key's byte");
        v[at] = 0xe9;
        fix_crc(&mut v);
        let batches = decode_batches(Bytes::from(v)).expect("decodes");
        let r = &batches[0].records[0];
        assert_eq!(r.headers[0].0, "h\u{fffd}");
        assert_eq!(r.headers[0].1.as_deref(), Some(&b"x"[..]));
        assert_eq!(r.value.as_deref(), Some(&b"v"[..]));
    }

    #[test]
    fn forged_record_count_is_rejected_without_allocating() {
        let bytes = encode_batch(&sample(2), Compression::None, ProducerIdentity::NONE).expect("e");
        let mut v = bytes.to_vec();
        v[57..61].copy_from_slice(&i32::MAX.to_be_bytes());
        fix_crc(&mut v);
        assert!(decode_batches(Bytes::from(v)).is_err());
    }

    #[test]
    fn forged_header_count_is_rejected() {
        let rec = OutgoingRecord {
            key: None,
            value: None,
            headers: vec![],
            timestamp: 0,
        };
        let bytes = encode_batch(&[rec], Compression::None, ProducerIdentity::NONE).expect("e");
        let mut v = bytes.to_vec();
        // Last byte of the only record is its header count (0); claim 2^30 headers instead by
        // rewriting it as a multi-byte varint is not possible in place, so claim 60 headers
        // (zig-zag 120), far more than the 0 bytes that follow.
        let last = v.len() - 1;
        v[last] = 120;
        fix_crc(&mut v);
        assert!(decode_batches(Bytes::from(v)).is_err());
    }

    #[test]
    fn control_batch_has_no_records_but_advances() {
        let bytes = encode_batch(&sample(1), Compression::None, ProducerIdentity::NONE).expect("e");
        let mut v = bytes.to_vec();
        v[22] |= 0x20;
        fix_crc(&mut v);
        let batches = decode_batches(Bytes::from(v)).expect("decode");
        assert!(batches[0].control);
        assert!(batches[0].records.is_empty());
        assert_eq!(batches[0].last_offset, 0);
    }

    #[test]
    fn codec_decoder_reads_our_batches_with_every_codec() {
        for codec in all_codecs() {
            let id = ProducerIdentity {
                producer_id: 7,
                producer_epoch: 1,
                base_sequence: 5,
            };
            let mut bytes = encode_batch(&sample(4), codec, id).expect("encode");
            let set = RecordBatchDecoder::decode(&mut bytes).expect("codec decode");
            assert_eq!(set.compression, codec);
            assert_eq!(set.records.len(), 4);
            for (i, (r, s)) in set.records.iter().zip(sample(4)).enumerate() {
                assert_eq!(r.offset, i as i64);
                assert_eq!(r.sequence, 5 + i as i32);
                assert_eq!(r.producer_id, 7);
                assert_eq!(r.timestamp, s.timestamp);
                assert_eq!(r.key, s.key);
                assert_eq!(r.value, s.value);
            }
        }
    }

    #[test]
    fn repeated_header_keys_are_kept_in_order() {
        let rec = OutgoingRecord {
            key: None,
            value: Some(Bytes::from_static(b"v")),
            headers: vec![
                ("h".to_string(), Some(Bytes::from_static(b"1"))),
                ("h".to_string(), Some(Bytes::from_static(b"2"))),
            ],
            timestamp: 9,
        };
        let bytes = encode_batch(
            std::slice::from_ref(&rec),
            Compression::None,
            ProducerIdentity::NONE,
        )
        .expect("encode");
        let batches = decode_batches(bytes).expect("decode");
        assert_eq!(batches[0].records[0].headers, rec.headers);
    }

    #[test]
    fn base_timestamp_is_the_first_records() {
        let mut recs = sample(3);
        recs[0].timestamp = 100;
        recs[1].timestamp = 50;
        recs[2].timestamp = 200;
        let bytes = encode_batch(&recs, Compression::None, ProducerIdentity::NONE).expect("e");
        assert_eq!(i64::from_be_bytes(fixed(&bytes[27..35])), 100);
        assert_eq!(i64::from_be_bytes(fixed(&bytes[35..43])), 200);
        let got: Vec<i64> = decode_batches(bytes).expect("decode")[0]
            .records
            .iter()
            .map(|r| r.timestamp)
            .collect();
        assert_eq!(got, vec![100, 50, 200]);
    }

    #[test]
    fn varints_encode_like_kafka() {
        for v in [0, -1, 1, 63, -64, 150, i32::MAX, i32::MIN] {
            let mut b = BytesMut::new();
            put_varint(&mut b, v);
            assert_eq!(read_varint(&mut b.freeze()), Ok(v));
        }
        let mut b = BytesMut::new();
        put_varint(&mut b, -1);
        assert_eq!(&b[..], &[0x01]);
        for v in [0i64, -1, i64::MAX, i64::MIN, 1 << 40] {
            let mut b = BytesMut::new();
            put_varlong(&mut b, v);
            assert_eq!(read_varlong(&mut b.freeze()), Ok(v));
        }
    }

    #[test]
    fn varints_decode_zigzag() {
        let mut b = Bytes::from_static(&[0x01, 0x02, 0xac, 0x02]);
        assert_eq!(read_varint(&mut b), Ok(-1));
        assert_eq!(read_varint(&mut b), Ok(1));
        assert_eq!(read_varint(&mut b), Ok(150));
        let mut b = Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert!(read_varint(&mut b).is_err());
    }
}
