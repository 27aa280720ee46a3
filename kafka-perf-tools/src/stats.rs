//! `ProducerPerformance.Stats`: per-record latencies of acknowledged sends, a window line every
//! 5 000 ms and the final summary, in Kafka 3.9's formats (facts sheet §5). Latencies are whole
//! milliseconds from `send` to the acknowledgement; percentiles come from a sample of at most
//! 500 000 of them (`sorted[(int) (p * n)]`). MB is 1024 x 1024 bytes.

use std::io::Write;

/// Kafka's hard-coded reporting interval.
pub const REPORTING_INTERVAL_MS: i64 = 5_000;

/// The running statistics of one producer run.
#[derive(Debug)]
pub struct Stats {
    start_ms: i64,
    latencies: Vec<i32>,
    sampling: u64,
    iteration: u64,
    count: u64,
    bytes: u64,
    max_latency: i32,
    total_latency: i64,
    window_count: u64,
    window_max_latency: i32,
    window_total_latency: i64,
    window_bytes: u64,
    window_start_ms: i64,
}

impl Stats {
    /// `num_records` > 0 (checked by the tool's options).
    pub fn new(num_records: u64, now_ms: i64) -> Self {
        let num_records = num_records.max(1);
        let sampling = num_records / num_records.min(500_000);
        Stats {
            start_ms: now_ms,
            latencies: Vec::with_capacity((num_records / sampling + 1) as usize),
            sampling,
            iteration: 0,
            count: 0,
            bytes: 0,
            max_latency: 0,
            total_latency: 0,
            window_count: 0,
            window_max_latency: 0,
            window_total_latency: 0,
            window_bytes: 0,
            window_start_ms: now_ms,
        }
    }

    /// One acknowledged record (`PerfCallback.onCompletion` without an exception); prints the
    /// window line to `out` when the window has run 5 s.
    pub fn record(&mut self, latency_ms: i32, bytes: usize, now_ms: i64, out: &mut impl Write) {
        self.count += 1;
        self.bytes += bytes as u64;
        self.total_latency += i64::from(latency_ms);
        self.max_latency = self.max_latency.max(latency_ms);
        self.window_count += 1;
        self.window_bytes += bytes as u64;
        self.window_total_latency += i64::from(latency_ms);
        self.window_max_latency = self.window_max_latency.max(latency_ms);
        if self.iteration.is_multiple_of(self.sampling) {
            self.latencies.push(latency_ms);
        }
        if now_ms - self.window_start_ms >= REPORTING_INTERVAL_MS {
            self.print_window(now_ms, out);
            self.new_window(now_ms);
        }
        self.iteration += 1;
    }

    /// Records acknowledged so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Bytes of acknowledged payloads so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    fn print_window(&self, now_ms: i64, out: &mut impl Write) {
        let elapsed = (now_ms - self.window_start_ms) as f64;
        let recs_per_sec = 1000.0 * self.window_count as f64 / elapsed;
        let mb_per_sec = 1000.0 * self.window_bytes as f64 / elapsed / (1024.0 * 1024.0);
        let _ = writeln!(
            out,
            "{} records sent, {} records/sec ({:.2} MB/sec), {} ms avg latency, {} ms max latency.",
            self.window_count,
            java_fixed(recs_per_sec, 1),
            mb_per_sec,
            java_fixed(
                self.window_total_latency as f64 / self.window_count as f64,
                1
            ),
            java_fixed(f64::from(self.window_max_latency), 1),
        );
        let _ = out.flush();
    }

    fn new_window(&mut self, now_ms: i64) {
        self.window_start_ms = now_ms;
        self.window_count = 0;
        self.window_max_latency = 0;
        self.window_total_latency = 0;
        self.window_bytes = 0;
    }

    /// `printTotal`: the final line.
    pub fn print_total(&mut self, now_ms: i64, out: &mut impl Write) {
        let elapsed = (now_ms - self.start_ms) as f64;
        let recs_per_sec = 1000.0 * self.count as f64 / elapsed;
        let mb_per_sec = 1000.0 * self.bytes as f64 / elapsed / (1024.0 * 1024.0);
        let [p50, p95, p99, p999] = self.percentiles([0.5, 0.95, 0.99, 0.999]);
        let _ = writeln!(
            out,
            "{} records sent, {} records/sec ({:.2} MB/sec), {} ms avg latency, {} ms max latency, {p50} ms 50th, {p95} ms 95th, {p99} ms 99th, {p999} ms 99.9th.",
            self.count,
            java_fixed(recs_per_sec, 6),
            mb_per_sec,
            java_fixed(self.total_latency as f64 / self.count as f64, 2),
            java_fixed(f64::from(self.max_latency), 2),
        );
        let _ = out.flush();
    }

    /// `percentiles`: the sorted sample's element at `(int) (p * size)`; 0 with no sample.
    fn percentiles(&mut self, ps: [f64; 4]) -> [i32; 4] {
        self.latencies.sort_unstable();
        let size = self.latencies.len();
        ps.map(|p| {
            let index = ((p * size as f64) as usize).min(size.saturating_sub(1));
            self.latencies.get(index).copied().unwrap_or(0)
        })
    }
}

/// Java's `String.format("%.Nf", x)`: `NaN` and `Infinity` spelled as Java spells them (a run
/// with no acknowledged record divides by zero, as Kafka's tool does).
pub fn java_fixed(x: f64, decimals: usize) -> String {
    if x.is_nan() {
        "NaN".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else {
        format!("{x:.decimals$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_line_has_kafkas_format() {
        let mut s = Stats::new(4, 0);
        let mut out = Vec::new();
        for (i, l) in [1, 2, 3, 10].into_iter().enumerate() {
            s.record(l, 100, 10 * i as i64, &mut out);
        }
        assert!(out.is_empty(), "no window line within 5 s");
        s.print_total(2000, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            "4 records sent, 2.000000 records/sec (0.00 MB/sec), 4.00 ms avg latency, 10.00 ms max latency, 3 ms 50th, 10 ms 95th, 10 ms 99th, 10 ms 99.9th.\n"
        );
    }

    #[test]
    fn a_window_line_every_five_seconds() {
        let mut s = Stats::new(10, 0);
        let mut out = Vec::new();
        s.record(4, 1024 * 1024, 1000, &mut out);
        s.record(6, 1024 * 1024, 5000, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            "2 records sent, 0.4 records/sec (0.40 MB/sec), 5.0 ms avg latency, 6.0 ms max latency.\n"
        );
    }

    #[test]
    fn sampling_keeps_at_most_half_a_million_latencies() {
        let s = Stats::new(2_000_000, 0);
        assert_eq!(s.sampling, 4);
    }

    #[test]
    fn no_acknowledged_record_prints_javas_nan() {
        let mut s = Stats::new(1, 0);
        let mut out = Vec::new();
        s.print_total(1000, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            "0 records sent, 0.000000 records/sec (0.00 MB/sec), NaN ms avg latency, 0.00 ms max latency, 0 ms 50th, 0 ms 95th, 0 ms 99th, 0 ms 99.9th.\n"
        );
    }
}
