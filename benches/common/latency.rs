//! Per-call latency percentiles, for the targets stated as a p99: criterion reports means, so
//! a bench times a run of single calls after its criterion groups and prints these.

#![allow(dead_code, reason = "each bench uses the part it needs")]

use std::future::Future;
use std::time::{Duration, Instant};

pub struct Percentiles {
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl std::fmt::Display for Percentiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        write!(f, "p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms", ms(self.p50), ms(self.p99), ms(self.max))
    }
}

/// Runs `call(i)` `n` times one after another and returns the percentiles of their durations.
pub fn time_calls<F, Fut>(rt: &tokio::runtime::Runtime, n: usize, mut call: F) -> Percentiles
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut samples: Vec<Duration> = rt.block_on(async {
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let started = Instant::now();
            call(i).await;
            out.push(started.elapsed());
        }
        out
    });
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
    Percentiles { p50: at(0.50), p99: at(0.99), max: at(1.0) }
}
