//! `--rate N`: at most N requests per second to each service, for real clouds that throttle.
//! Each service has its own schedule: a request takes the next free slot, slots `1/N` s apart.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next_free: parking_lot::Mutex<HashMap<String, Instant>>,
}

impl RateLimiter {
    /// A limiter of `per_second` requests a second to each service; `None` for zero.
    pub fn per_second(per_second: u32) -> Option<RateLimiter> {
        (per_second > 0).then(|| RateLimiter {
            interval: Duration::from_secs(1) / per_second,
            next_free: parking_lot::Mutex::new(HashMap::new()),
        })
    }

    /// Takes the next slot of `service`: when its request may go out.
    pub fn reserve(&self, service: &str) -> Instant {
        let now = Instant::now();
        let mut next_free = self.next_free.lock();
        let slot = next_free.get(service).map_or(now, |&free| free.max(now));
        next_free.insert(service.to_string(), slot + self.interval);
        slot
    }

    /// Waits for the next slot of `service`.
    pub async fn acquire(&self, service: &str) {
        tokio::time::sleep_until(self.reserve(service)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_no_limiter() {
        assert!(RateLimiter::per_second(0).is_none());
    }

    // Paused time: the clock moves only when every task waits, so the slots are exact.
    #[tokio::test(start_paused = true)]
    async fn slots_are_spaced_per_service() {
        let limiter = RateLimiter::per_second(4).expect("a limiter");
        let start = Instant::now();
        let slots: Vec<Duration> = (0..5).map(|_| limiter.reserve("a") - start).collect();
        let quarter = Duration::from_millis(250);
        assert_eq!(slots, (0..5).map(|i| quarter * i).collect::<Vec<_>>());
        // Another service has its own schedule.
        assert_eq!(limiter.reserve("b") - start, Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn acquiring_waits_for_the_slot() {
        let limiter = RateLimiter::per_second(2).expect("a limiter");
        let start = Instant::now();
        for _ in 0..3 {
            limiter.acquire("a").await;
        }
        // Three requests at two a second: the third goes out one second after the first.
        assert_eq!(Instant::now() - start, Duration::from_secs(1));
        // A pause longer than the interval leaves no debt: the next request goes at once.
        tokio::time::sleep(Duration::from_secs(5)).await;
        let before = Instant::now();
        limiter.acquire("a").await;
        assert_eq!(Instant::now(), before);
    }
}
