//! `org.apache.kafka.server.util.ThroughputThrottler`: keeps a loop near a target rate by
//! sleeping off the deficit once it reaches 2 ms (`--throughput`, records/s; a negative target
//! never throttles). The elapsed time is measured finer than Kafka's whole milliseconds, so a
//! run whose first records all go out within one millisecond is throttled too.

use std::time::Duration;

const NS_PER_SEC: f64 = 1_000_000_000.0;
const MIN_SLEEP_NS: u64 = 2_000_000;

#[derive(Debug)]
pub struct Throttler {
    target: f64,
    sleep_time_ns: u64,
    sleep_deficit_ns: u64,
}

impl Throttler {
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

    /// `shouldThrottle(amountSoFar, sendStartMs)`: ahead of the target rate, `elapsed` after
    /// the start.
    pub fn should_throttle(&self, amount_so_far: u64, elapsed: Duration) -> bool {
        if self.target < 0.0 {
            return false;
        }
        let elapsed_sec = elapsed.as_secs_f64();
        elapsed_sec > 0.0 && (amount_so_far as f64 / elapsed_sec) > self.target
    }

    /// `throttle()`: how long to sleep now (zero while the deficit is under 2 ms). A target of 0
    /// sleeps for ever in Kafka's tool; here it sleeps a day at a time.
    pub fn throttle(&mut self) -> Duration {
        if self.target == 0.0 {
            return Duration::from_secs(86_400);
        }
        self.sleep_deficit_ns = self.sleep_deficit_ns.saturating_add(self.sleep_time_ns);
        if self.sleep_deficit_ns >= MIN_SLEEP_NS {
            let d = Duration::from_nanos(self.sleep_deficit_ns);
            self.sleep_deficit_ns = 0;
            d
        } else {
            Duration::ZERO
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
    fn ahead_of_target_sleeps_the_deficit_in_steps_of_at_least_two_ms() {
        let mut t = Throttler::new(1000.0);
        assert!(t.should_throttle(2000, Duration::from_secs(1)));
        assert!(!t.should_throttle(500, Duration::from_secs(1)));
        // Within the first millisecond: ahead of 1000/s after two records.
        assert!(t.should_throttle(2, Duration::from_micros(50)));
        // 1 ms per record: the first call accumulates, the second sleeps 2 ms.
        assert_eq!(t.throttle(), Duration::ZERO);
        assert_eq!(t.throttle(), Duration::from_millis(2));
    }
}
