//! The dashboards use only metrics the code defines, and the code's metric catalog is honest:
//! every cataloged metric is recorded somewhere in the source.

use std::collections::BTreeSet;
use std::path::Path;

use timsg_actors::telemetry::METRICS;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `timsg_…` names in a text, with histogram series suffixes removed.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(pos) = text[i..].find("timsg_") {
        let start = i + pos;
        let end = start
            + bytes[start..].iter().take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || **b == b'_').count();
        let name = &text[start..end];
        let base = ["_bucket", "_sum", "_count"].iter().find_map(|s| name.strip_suffix(s)).unwrap_or(name);
        out.insert(base.to_string());
        i = end;
    }
    out
}

fn dashboards() -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root().join("dashboards")).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "json") {
            let json = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).expect("dashboard JSON parses");
            out.push((path.file_name().unwrap().to_string_lossy().to_string(), json));
        }
    }
    out
}

#[test]
fn every_dashboard_metric_is_defined_in_the_code() {
    let catalog: BTreeSet<&str> = METRICS.iter().map(|m| m.name).collect();
    let boards = dashboards();
    assert_eq!(boards.len(), 5, "overview, conversations, store, media, API latency");
    for (file, board) in boards {
        let panels = board["panels"].as_array().expect("panels");
        assert!(!panels.is_empty(), "{file} has panels");
        for panel in panels {
            for target in panel["targets"].as_array().expect("targets") {
                let expr = target["expr"].as_str().expect("expr");
                let names = metric_names(expr);
                assert!(!names.is_empty(), "{file}: {expr} uses a timsg metric");
                for name in names {
                    assert!(catalog.contains(name.as_str()), "{file}: {name} is not in the metric catalog");
                }
            }
        }
    }
}

#[test]
fn every_cataloged_metric_is_recorded_by_the_code() {
    let mut source = String::new();
    fn collect(dir: &Path, out: &mut String) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                collect(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") && !p.ends_with("telemetry.rs") {
                out.push_str(&std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    collect(&root().join("src"), &mut source);
    collect(&root().join("actors/src"), &mut source);
    for m in METRICS {
        assert!(source.contains(&format!("\"{}\"", m.name)), "{} is cataloged but never recorded", m.name);
    }
    let recorded = metric_names(&source);
    for name in recorded.iter().filter(|n| n.len() > "timsg_".len()) {
        if source.contains(&format!("metrics::counter!(\"{name}\""))
            || source.contains(&format!("metrics::gauge!(\"{name}\""))
            || source.contains(&format!("metrics::histogram!(\"{name}\""))
        {
            assert!(METRICS.iter().any(|m| m.name == name), "{name} is recorded but not cataloged");
        }
    }
}
