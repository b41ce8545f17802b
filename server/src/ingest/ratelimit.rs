//! Rate limiting per site and client address: a token bucket per key, refilled
//! continuously. Keys idle long enough to be full again are forgotten, so the
//! map stays as small as the set of active senders.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets keyed by (site id, client address).
#[derive(Debug)]
pub struct RateLimiter {
    per_sec: f64,
    burst: f64,
    buckets: Mutex<HashMap<(u32, IpAddr), Bucket>>,
}

impl RateLimiter {
    /// `per_sec` requests per second with bursts of twice that; 0 disables.
    pub fn new(per_sec: u32) -> Self {
        let per_sec = f64::from(per_sec);
        Self { per_sec, burst: (per_sec * 2.0).max(1.0), buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one token for the key at `now`; on refusal answers the seconds until
    /// the next token.
    pub fn check(&self, site: u32, ip: IpAddr, now: Instant) -> Result<(), u64> {
        if self.per_sec <= 0.0 {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > 100_000 {
            let full_after = self.burst / self.per_sec;
            buckets.retain(|_, b| now.duration_since(b.at).as_secs_f64() < full_after);
        }
        let b = buckets.entry((site, ip)).or_insert(Bucket { tokens: self.burst, at: now });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.per_sec).min(self.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - b.tokens) / self.per_sec;
            // Retry-After is whole seconds; never advertise 0.
            Err(wait.ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn allows_a_burst_then_refuses_until_tokens_refill() {
        let rl = RateLimiter::new(5);
        let ip: IpAddr = [127, 0, 0, 1].into();
        let t0 = Instant::now();
        for _ in 0..10 {
            assert!(rl.check(1, ip, t0).is_ok());
        }
        assert_eq!(rl.check(1, ip, t0), Err(1));
        // Another site or address has its own bucket.
        assert!(rl.check(2, ip, t0).is_ok());
        assert!(rl.check(1, [10, 0, 0, 1].into(), t0).is_ok());
        assert!(rl.check(1, ip, t0 + Duration::from_millis(250)).is_ok());
    }

    #[test]
    fn zero_disables_the_limit() {
        let rl = RateLimiter::new(0);
        let t0 = Instant::now();
        assert!((0..1000).all(|_| rl.check(1, [127, 0, 0, 1].into(), t0).is_ok()));
    }
}
