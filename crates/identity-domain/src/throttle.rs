//! Sign-in throttling, per account and per client address: after `MAX_FAILURES`
//! failures inside `WINDOW_SECS`, further attempts wait until the window ends.
//! Counters live in the tenant's key-value store.

use serde::{Deserialize, Serialize};

pub const MAX_FAILURES: u32 = 5;
pub const WINDOW_SECS: i64 = 15 * 60;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failures {
    pub count: u32,
    pub window_start: i64,
}

impl Failures {
    /// `Err(seconds)` when attempts are blocked.
    pub fn check(&self, now: i64) -> Result<(), i64> {
        let window_end = self.window_start + WINDOW_SECS;
        if self.count >= MAX_FAILURES && now < window_end {
            Err(window_end - now)
        } else {
            Ok(())
        }
    }

    pub fn record_failure(mut self, now: i64) -> Failures {
        if self.count == 0 || now >= self.window_start + WINDOW_SECS {
            self = Failures { count: 0, window_start: now };
        }
        self.count += 1;
        self
    }
}

pub fn account_key(email: &str) -> String {
    format!("signin-fail:acct:{}", email.to_lowercase())
}

pub fn address_key(addr: &str) -> String {
    // The port changes per connection; the address is what is throttled.
    let ip = addr.rsplit_once(':').map_or(addr, |(ip, _)| ip);
    format!("signin-fail:addr:{ip}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_block_until_the_window_ends() {
        let mut f = Failures::default();
        for _ in 0..MAX_FAILURES {
            assert!(f.check(100).is_ok());
            f = f.record_failure(100);
        }
        assert_eq!(f.check(100), Err(WINDOW_SECS));
        assert!(f.check(100 + WINDOW_SECS).is_ok());
        let f = f.record_failure(100 + WINDOW_SECS);
        assert_eq!(f.count, 1, "a new window starts");
        assert_eq!(address_key("10.0.0.1:5555"), "signin-fail:addr:10.0.0.1");
    }
}
