//! Deadline arithmetic that cannot panic: user-supplied timeouts (`linger.ms`, `max.block.ms`)
//! may be as large as i64::MAX milliseconds, beyond what `Instant + Duration` accepts.

use std::time::{Duration, Instant};

/// `t + d`, saturating at about a year after `t` (a deadline that never comes, in practice).
pub(crate) fn after(t: Instant, d: Duration) -> Instant {
    const FAR: Duration = Duration::from_secs(365 * 24 * 3600);
    t.checked_add(d.min(FAR)).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_durations_do_not_panic() {
        let now = Instant::now();
        assert!(after(now, Duration::MAX) > now);
        assert_eq!(
            after(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
    }
}
