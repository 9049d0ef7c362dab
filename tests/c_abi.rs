//! The C ABI, driven by real C and C++ programs: `tests/c/*.c` compiled with the system `cc`
//! (and `tests/c/seed_samples.cpp` with `c++` and jsoncpp) against `include/TIMCloud.h`,
//! linked with `-ltimsg`, and run.

use std::path::Path;

mod tools;

use tools::c_programs::{compile, run_within};

fn run(program: &Path, args: &[&str]) -> String {
    run_within(program, args, std::time::Duration::from_secs(300))
}

#[test]
fn a_c_program_uses_every_function() {
    if !tools::available_or_skip("a C compiler (cc)", tools::runs("cc")) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("api");
    compile("api.c", &bin, false);
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    assert!(run(&bin, &[data.to_str().unwrap()]).contains("all checks passed"));
}

#[test]
fn usersig_is_verified_when_a_secret_key_is_set() {
    if !tools::available_or_skip("a C compiler (cc)", tools::runs("cc")) {
        return;
    }
    use timsg::auth::usersig::generate;
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("usersig");
    compile("usersig.c", &bin, false);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let good = generate(1400000000, "secret", "alice", 86400, now);
    let forged = generate(1400000000, "not the secret", "alice", 86400, now);
    let expired = generate(1400000000, "secret", "alice", 60, now - 3600);
    let carol = generate(1400000000, "secret", "carol", 86400, now);
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    assert!(run(&bin, &[data.to_str().unwrap(), &good, &forged, &expired, &carol]).contains("all checks passed"));
}

#[test]
fn the_seed_reference_samples_compile_and_run() {
    let jsoncpp = Path::new("/usr/include/jsoncpp/json/json.h").is_file() && tools::runs("c++");
    if !tools::available_or_skip("a C++ compiler with Debian's libjsoncpp-dev", jsoncpp) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("seed_samples");
    compile("seed_samples.cpp", &bin, true);
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    assert!(run(&bin, &[data.to_str().unwrap()]).contains("all samples ran"));
}

#[test]
fn the_readme_example_runs() {
    if !tools::available_or_skip("a C compiler (cc)", tools::runs("cc")) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("hello");
    compile("examples/c/hello.c", &bin, false);
    let out = run(&bin, &[dir.path().join("data").to_str().unwrap()]);
    assert!(out.contains("login: code 0") && out.contains("send: code 0"), "{out}");
    assert!(out.contains("\"text_elem_content\":\"hello\""), "{out}");
}

/// Compiles `tests/c/<name>.c`, runs it on a fresh data directory within `limit_secs` (a
/// deadlock fails, not hangs) and checks it said "all checks passed".
fn run_program(name: &str, limit_secs: u64) {
    if !tools::available_or_skip("a C compiler (cc)", tools::runs("cc")) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join(name);
    compile(&format!("{name}.c"), &bin, false);
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let out = run_within(&bin, &[data.to_str().unwrap()], std::time::Duration::from_secs(limit_secs));
    assert!(out.contains("all checks passed"), "{out}");
}

#[test]
fn listeners_may_change_listeners() {
    run_program("listener_reentry", 60);
}

#[test]
fn logout_and_login_from_callbacks_with_the_queue_full_do_not_deadlock() {
    run_program("logout_in_callback", 240);
}

#[test]
fn uninit_answers_every_call_once_even_from_a_callback() {
    run_program("uninit_in_flight", 180);
}

#[test]
fn what_completes_after_a_logout_arrives_at_the_next_login() {
    run_program("logout_in_flight", 120);
}

#[test]
fn searches_do_not_hold_up_a_history_read() {
    run_program("search_beside_history", 240);
}

#[test]
fn small_codes_are_the_sdks() {
    run_program("minor_codes", 60);
}

#[test]
fn memory_stays_bounded_under_steady_sends() {
    run_program("memory_bound", 240);
}
