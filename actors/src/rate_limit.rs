//! A token bucket: `rate` tokens per second, holding at most `rate` (one second of burst).

#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: u32,
    /// Tokens in thousandths, so refills need no floating point.
    milli_tokens: u64,
    last_ms: u64,
}

impl TokenBucket {
    /// A bucket that starts full; `rate` 0 means unlimited.
    pub fn new(rate: u32) -> TokenBucket {
        TokenBucket { rate, milli_tokens: u64::from(rate) * 1000, last_ms: 0 }
    }

    pub fn is_unlimited(&self) -> bool {
        self.rate == 0
    }

    fn refill(&mut self, now_ms: u64) {
        let elapsed = now_ms.saturating_sub(self.last_ms);
        self.last_ms = self.last_ms.max(now_ms);
        let cap = u64::from(self.rate) * 1000;
        self.milli_tokens = (self.milli_tokens + elapsed * u64::from(self.rate)).min(cap);
    }

    /// Takes one token if there is one.
    pub fn try_take(&mut self, now_ms: u64) -> bool {
        if self.is_unlimited() {
            return true;
        }
        self.refill(now_ms);
        if self.milli_tokens >= 1000 {
            self.milli_tokens -= 1000;
            true
        } else {
            false
        }
    }

    /// Milliseconds until the next token, 0 if one is there.
    pub fn wait_ms(&mut self, now_ms: u64) -> u64 {
        if self.is_unlimited() {
            return 0;
        }
        self.refill(now_ms);
        let missing = 1000u64.saturating_sub(self.milli_tokens);
        missing.div_ceil(u64::from(self.rate))
    }
}

/// Counts calls per window, for APIs the SDK limits to N calls per second per user.
#[derive(Debug, Clone, Default)]
pub struct CallWindow {
    window_start_ms: u64,
    calls: u32,
}

impl CallWindow {
    /// Records a call; false if it is over `max_calls` within `window_ms`.
    pub fn admit(&mut self, now_ms: u64, window_ms: u64, max_calls: u32) -> bool {
        if now_ms.saturating_sub(self.window_start_ms) >= window_ms {
            self.window_start_ms = now_ms;
            self.calls = 0;
        }
        if self.calls >= max_calls {
            return false;
        }
        self.calls += 1;
        true
    }

    /// Whether a window that started this long ago still limits anything at `now_ms`.
    pub fn is_current(&self, now_ms: u64, window_ms: u64) -> bool {
        now_ms.saturating_sub(self.window_start_ms) < window_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_rate_per_second() {
        let mut b = TokenBucket::new(2);
        assert!(b.try_take(1000));
        assert!(b.try_take(1000));
        assert!(!b.try_take(1000));
        assert_eq!(b.wait_ms(1000), 500);
        assert!(b.try_take(1500));
        assert!(TokenBucket::new(0).try_take(0));
    }

    #[test]
    fn call_window_resets() {
        let mut w = CallWindow::default();
        assert!(w.admit(10_000, 1000, 1));
        assert!(!w.admit(10_500, 1000, 1));
        assert!(w.admit(11_000, 1000, 1));
    }
}
