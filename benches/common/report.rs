//! Reading criterion's own estimates back, so a bench can print its ratio to its baseline.

/// Mean time per iteration of a finished benchmark `group/bench`, in nanoseconds.
pub fn mean_ns(group: &str, bench: &str) -> Option<f64> {
    let dir = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| format!("{}/target", env!("CARGO_MANIFEST_DIR")));
    let text = std::fs::read_to_string(format!("{dir}/criterion/{group}/{bench}/new/estimates.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

/// The means of a group's baseline and of timsg's bench, when both have run.
pub fn baseline_and_ours(group: &str, baseline: &str, ours: &str) -> Option<(f64, f64)> {
    Some((mean_ns(group, baseline)?, mean_ns(group, ours)?))
}
