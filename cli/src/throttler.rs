//! `org.apache.kafka.server.util.ThroughputThrottler`, as Kafka's producer tools use it
//! (`kafka-producer-perf-test --throughput`, `kafka-verifiable-producer --throughput`): a loop that
//! is ahead of its target rate (records/s) sleeps off its deficit, 1/target s per record, in naps of
//! at least 2 ms. A negative target never throttles; a target of 0 waits until the tool is stopped.
//!
//! The caller measures the elapsed time: whole milliseconds reproduce Kafka's
//! `System.currentTimeMillis()` arithmetic (nothing is throttled within the first millisecond),
//! a finer clock also throttles a run whose first records all go out within one millisecond.

use std::time::Duration;

const NS_PER_SEC: f64 = 1_000_000_000.0;
const MIN_SLEEP_NS: u64 = 2_000_000;

/// The throttle state of one sending loop (`ThroughputThrottler`).
#[derive(Debug)]
pub struct Throttler {
    target: f64,
    sleep_time_ns: u64,
    sleep_deficit_ns: u64,
}

/// What [`Throttler::throttle`] asks of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nap {
    /// Carry on now: the deficit is still under 2 ms.
    None,
    /// Sleep this long.
    For(Duration),
    /// A target of 0: wait until stopped.
    Forever,
}

impl Throttler {
    /// `new ThroughputThrottler(targetThroughput, startMs)`, target in records/s; the start is
    /// the caller's.
    pub fn new(target_per_sec: f64) -> Self {
        let sleep_time_ns = if target_per_sec > 0.0 {
            (NS_PER_SEC / target_per_sec) as u64
        } else {
            u64::MAX
        };
        Throttler {
            target: target_per_sec,
            sleep_time_ns,
            sleep_deficit_ns: 0,
        }
    }

    /// `shouldThrottle(amountSoFar, sendStartMs)`: true when `amount_so_far` records in `elapsed`
    /// since the start are ahead of the target.
    pub fn should_throttle(&self, amount_so_far: u64, elapsed: Duration) -> bool {
        if self.target < 0.0 {
            return false;
        }
        let elapsed_sec = elapsed.as_secs_f64();
        elapsed_sec > 0.0 && (amount_so_far as f64 / elapsed_sec) > self.target
    }

    /// `throttle()`: how long to sleep now.
    pub fn throttle(&mut self) -> Nap {
        if self.target == 0.0 {
            return Nap::Forever;
        }
        self.sleep_deficit_ns = self.sleep_deficit_ns.saturating_add(self.sleep_time_ns);
        if self.sleep_deficit_ns >= MIN_SLEEP_NS {
            let nap = Duration::from_nanos(self.sleep_deficit_ns);
            self.sleep_deficit_ns = 0;
            Nap::For(nap)
        } else {
            Nap::None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_target_never_throttles() {
        let t = Throttler::new(-1.0);
        assert!(!t.should_throttle(1_000_000, Duration::from_millis(1)));
    }

    #[test]
    fn ahead_of_target_is_throttled_and_nothing_at_time_zero() {
        let t = Throttler::new(1000.0);
        assert!(t.should_throttle(2000, Duration::from_secs(1)));
        assert!(!t.should_throttle(500, Duration::from_secs(1)));
        // A finer clock: ahead of 1000/s after two records within the first millisecond.
        assert!(t.should_throttle(2, Duration::from_micros(50)));
        // Kafka's whole milliseconds: nothing within the first one.
        assert!(!Throttler::new(10.0).should_throttle(1000, Duration::ZERO));
    }

    #[test]
    fn the_deficit_is_slept_in_naps_of_at_least_two_ms() {
        let mut t = Throttler::new(1000.0);
        assert_eq!(t.throttle(), Nap::None);
        assert_eq!(t.throttle(), Nap::For(Duration::from_millis(2)));
        let mut slow = Throttler::new(10.0);
        assert_eq!(slow.throttle(), Nap::For(Duration::from_millis(100)));
    }

    #[test]
    fn zero_target_waits_for_ever() {
        let mut t = Throttler::new(0.0);
        assert!(t.should_throttle(1, Duration::from_millis(1)));
        assert_eq!(t.throttle(), Nap::Forever);
    }
}
