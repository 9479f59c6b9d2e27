//! Throttling as API Gateway does it: token buckets with a steady rate and a burst, from a
//! stage's `methodSettings` (`*/*` and `resourcePath/httpMethod`) and an optional process-wide
//! limit. A bucket is one atomic word, so the request path takes no lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Tokens are kept in thousandths, in the high 32 bits; the low 32 bits hold the time of the
/// last refill in milliseconds since the bucket was made (wrapping; only differences count).
#[derive(Debug)]
pub struct TokenBucket {
    /// Tokens per second, in thousandths per millisecond (= tokens per second).
    rate: f64,
    burst: u64,
    state: AtomicU64,
    origin: Instant,
}

impl TokenBucket {
    pub fn new(rate: f64, burst: u64) -> Self {
        let burst = burst.clamp(0, 4_000_000);
        Self { rate: rate.max(0.0), burst, state: AtomicU64::new((burst * 1000) << 32), origin: Instant::now() }
    }

    /// Takes one token if there is one.
    pub fn try_acquire(&self) -> bool {
        let now = self.origin.elapsed().as_millis() as u32;
        let capacity = self.burst * 1000;
        let mut current = self.state.load(Ordering::Relaxed);
        loop {
            let (tokens, last) = (current >> 32, current as u32);
            let elapsed = now.wrapping_sub(last) as u64;
            let refilled = (tokens + (elapsed as f64 * self.rate) as u64).min(capacity);
            // Keep the refill time where it was when less than one thousandth was earned, so
            // slow rates still accumulate.
            let stamp = if refilled == tokens && tokens < capacity { last } else { now };
            let (next_tokens, granted) = if refilled >= 1000 { (refilled - 1000, true) } else { (refilled, false) };
            let next = (next_tokens << 32) | stamp as u64;
            match self.state.compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return granted,
                Err(actual) => current = actual,
            }
        }
    }
}

/// The methodSettings key of a method: `~1pets~1{petId}/GET` as AWS writes it, or
/// `/pets/{petId}/GET`; `*` for any path or verb.
pub fn setting_applies(key: &str, resource_path: &str, verb: &str) -> Option<u8> {
    let (path, method) = key.rsplit_once('/')?;
    let path = path.replace("~1", "/");
    let path_matches =
        path == "*" || path == resource_path || path.trim_end_matches('/') == resource_path.trim_end_matches('/');
    let verb_matches = method == "*" || method == verb;
    // More specific settings win: an exact path and verb over a wildcard.
    (path_matches && verb_matches).then_some((path != "*") as u8 * 2 + (method != "*") as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let b = TokenBucket::new(1000.0, 3);
        assert!(b.try_acquire() && b.try_acquire() && b.try_acquire());
        assert!(!b.try_acquire());
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(b.try_acquire(), "a rate of 1000/s refills within milliseconds");
        assert!(!TokenBucket::new(10.0, 0).try_acquire(), "a burst of 0 admits nothing");
    }

    #[test]
    fn setting_keys() {
        assert_eq!(setting_applies("*/*", "/pets", "GET"), Some(0));
        assert_eq!(setting_applies("~1pets/GET", "/pets", "GET"), Some(3));
        assert_eq!(setting_applies("/pets/{id}/GET", "/pets/{id}", "GET"), Some(3));
        assert_eq!(setting_applies("~1pets/*", "/pets", "POST"), Some(2));
        assert_eq!(setting_applies("~1pets/GET", "/pets", "POST"), None);
    }
}
