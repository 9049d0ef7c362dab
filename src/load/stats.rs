//! Latency per API (HDR histograms, microseconds) and the process's peak memory.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{Value, json};

/// Latencies as recorded: raw samples per API (microseconds), made into HDR histograms only
/// when reported. Each load worker keeps its own; a histogram per worker (430 KB each at this
/// range and precision) made the generator fault in ~440 MB in the first milliseconds of a
/// run with 1,024 workers, which stalled the run it was measuring.
#[derive(Debug, Default)]
pub struct Latencies {
    per_api: BTreeMap<&'static str, Vec<u32>>,
}

/// Longest latency recorded, microseconds (a minute).
const MAX_MICROS: u64 = 60_000_000;

impl Latencies {
    pub fn record(&mut self, api: &'static str, d: Duration) {
        let micros = (d.as_micros() as u64).clamp(1, MAX_MICROS) as u32;
        self.per_api.entry(api).or_default().push(micros);
    }

    pub fn merge(&mut self, other: Latencies) {
        for (api, samples) in other.per_api {
            self.per_api.entry(api).or_default().extend(samples);
        }
    }

    fn histogram(samples: &[u32]) -> Histogram<u64> {
        let mut h = Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("valid histogram bounds");
        for s in samples {
            let _ = h.record(u64::from(*s));
        }
        h
    }

    pub fn count(&self, api: &str) -> u64 {
        self.per_api.get(api).map_or(0, |s| s.len() as u64)
    }

    /// `{api: {count, p50_ms, p90_ms, p99_ms, p999_ms, max_ms}}`.
    pub fn to_json(&self) -> Value {
        let mut out = serde_json::Map::new();
        for (api, samples) in &self.per_api {
            let h = Self::histogram(samples);
            let ms = |v: u64| v as f64 / 1000.0;
            out.insert(
                api.to_string(),
                json!({
                    "count": h.len(),
                    "p50_ms": ms(h.value_at_quantile(0.5)),
                    "p90_ms": ms(h.value_at_quantile(0.9)),
                    "p99_ms": ms(h.value_at_quantile(0.99)),
                    "p999_ms": ms(h.value_at_quantile(0.999)),
                    "max_ms": ms(h.max()),
                }),
            );
        }
        Value::Object(out)
    }
}

/// The process's peak resident set size, bytes (Linux `VmHWM`; 0 where unknown).
pub fn peak_rss_bytes() -> u64 {
    status_bytes("VmHWM:")
}

/// The process's resident memory now, in bytes (0 where `/proc` is not there).
pub fn rss_bytes() -> u64 {
    status_bytes("VmRSS:")
}

/// The process's own memory now (anonymous pages: heap, stacks), in bytes; unlike the RSS it
/// leaves out mapped file pages such as the database's, which the kernel reclaims at will.
pub fn anonymous_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/smaps_rollup")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Anonymous:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// A size in `/proc/self/status` (given there in KiB), in bytes.
fn status_bytes(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_merge() {
        let mut a = Latencies::default();
        for ms in 1..=100 {
            a.record("send", Duration::from_millis(ms));
        }
        let mut b = Latencies::default();
        b.record("send", Duration::from_millis(500));
        a.merge(b);
        assert_eq!(a.count("send"), 101);
        assert!((a.to_json()["send"]["p50_ms"].as_f64().unwrap() - 51.0).abs() < 1.0);
        assert!(a.to_json()["send"]["max_ms"].as_f64().unwrap() >= 499.0);
        assert!(peak_rss_bytes() > 0);
    }
}
