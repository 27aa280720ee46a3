//! Finding one record inside one stored, uncompressed batch by timestamp, for ListOffsets only
//! (never on the produce or fetch path). Only the record prefixes are read (length, attributes,
//! timestamp delta, offset delta); every varint is bounds-checked against the batch.

use super::batch::{BatchHeader, BATCH_HEADER_LEN};
use common::record::varint::read_zigzag;

/// Zig-zag varint at `buf[*at..]`, at most `max_bytes` long (`common::record::varint`).
fn read_varlong(buf: &[u8], at: &mut usize, max_bytes: usize) -> Option<i64> {
    read_zigzag(buf, at, max_bytes).ok()
}

/// The first record of `batch` (a whole stored batch) whose timestamp is at least `target`, as
/// (offset, timestamp). `None` when the batch is compressed or malformed: callers then fall back
/// to the batch's own base offset and max timestamp.
pub fn first_record_at_or_after(batch: &[u8], target: i64) -> Option<(i64, i64)> {
    let header = BatchHeader::new(batch).ok()?;
    if header.compression() != 0 {
        return None;
    }
    if header.is_log_append_time() {
        return Some((header.base_offset(), header.max_timestamp()));
    }
    let mut at = BATCH_HEADER_LEN;
    for _ in 0..header.records_count() {
        let len = usize::try_from(read_varlong(batch, &mut at, 5)?).ok()?;
        let end = at.checked_add(len).filter(|e| *e <= batch.len())?;
        let mut field = at + 1; // skip the record attributes
        let ts_delta = read_varlong(&batch[..end], &mut field, 10)?;
        let offset_delta = read_varlong(&batch[..end], &mut field, 5)?;
        let ts = header.base_timestamp().saturating_add(ts_delta);
        if ts >= target {
            return Some((header.base_offset().saturating_add(offset_delta), ts));
        }
        at = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::testutil::timed_batch;

    #[test]
    fn finds_first_record_reaching_a_timestamp() {
        let mut bytes = timed_batch(5, 1_000);
        BatchHeader::new(&mut bytes[..])
            .expect("header")
            .set_base_offset(40);
        assert_eq!(first_record_at_or_after(&bytes, 0), Some((40, 1_000)));
        assert_eq!(first_record_at_or_after(&bytes, 1_003), Some((43, 1_003)));
        assert_eq!(first_record_at_or_after(&bytes, 1_005), None);
        assert_eq!(first_record_at_or_after(&bytes[..70], 1_004), None);
    }
}
