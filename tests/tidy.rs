//! Tidiness checks over the source tree: every Rust file opens with a `//!` doc saying what it
//! is; the README's first screen stays short and its Rust quick start is the example's code.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn all_rust_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "actors/src", "tests", "benches", "examples", "fuzz/fuzz_targets"] {
        rust_files(&root.join(dir), &mut files);
    }
    files
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let missing: Vec<_> = all_rust_files()
        .into_iter()
        .filter(|f| !std::fs::read_to_string(f).unwrap().trim_start().starts_with("//!"))
        .collect();
    assert!(missing.is_empty(), "files without a //! header: {missing:?}");
}

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

#[test]
fn the_readme_rust_quick_start_is_the_example() {
    let example = read("examples/quick_start.rs");
    let lines: Vec<&str> = example.lines().collect();
    let at = |marker: &str| lines.iter().position(|l| l.trim() == marker).unwrap_or_else(|| panic!("no {marker}"));
    let (begin, end) = (at("// quick start: begin"), at("// quick start: end"));
    let code: Vec<&str> = lines[begin + 1..end].iter().map(|l| l.strip_prefix("    ").unwrap_or(l)).collect();
    let readme = read("README.md");
    let section = &readme[readme.find("## Quick start in Rust").expect("a Rust quick start")..];
    let block = &section[section.find("```rust\n").expect("a rust block") + 8..];
    let block: Vec<&str> = block[..block.find("```").unwrap()].lines().collect();
    assert_eq!(block, code, "the README's Rust quick start differs from examples/quick_start.rs");
}

#[test]
fn the_readme_first_screen_is_short() {
    let readme = read("README.md");
    let before_api = readme.lines().position(|l| l.starts_with("## API coverage")).expect("an API table");
    assert!(before_api < 60, "{before_api} lines before the API table: keep what, two commands and quick starts");
    assert!(readme.contains("cargo run --release -- serve") && readme.contains("scripts/test"));
}

#[test]
fn the_readme_performance_summary_is_ten_lines() {
    let readme = read("README.md");
    let section = readme.split("\n## Performance").nth(1).expect("a performance section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let table_lines = section.lines().filter(|l| l.starts_with('|')).count();
    assert!(table_lines > 2, "the performance section has a summary table");
    assert!(
        table_lines <= 10,
        "{table_lines} table lines in the README's performance section: keep ten, the rest in docs/performance.md"
    );
}
