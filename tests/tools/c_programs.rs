//! C and C++ test programs against `libtimsg`: building the library, compiling a program
//! under `tests/c` with the system compiler, and running it under a deadlock watchdog.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Builds `libtimsg.so` (the test build of the crate does not refresh the cdylib) and returns
/// the directory it is in.
pub fn lib_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        // A clean environment: the variables cargo sets for this test would otherwise look
        // like changes to build scripts, and each build would undo the other's.
        let keep = ["PATH", "HOME", "CARGO_HOME", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN", "CARGO_TARGET_DIR"];
        let status = Command::new(cargo)
            .env_clear()
            .envs(std::env::vars().filter(|(k, _)| keep.contains(&k.as_str())))
            .args(["build", "--lib", "--quiet", "-p", "timsg"])
            .current_dir(manifest())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building libtimsg failed");
        let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| manifest().join("target"));
        let dir = target.join("debug");
        assert!(dir.join("libtimsg.so").is_file(), "no libtimsg.so in {}", dir.display());
        dir
    })
}

/// Compiles a test program (a path under `tests/c`, or from the crate root if it has a
/// directory); `cxx` selects the C++ compiler and jsoncpp.
pub fn compile(source: &str, out: &Path, cxx: bool) {
    let lib = lib_dir();
    let mut cmd = Command::new(if cxx { "c++" } else { "cc" });
    if cxx {
        cmd.args(["-std=c++14", "-I/usr/include/jsoncpp"]);
    } else {
        cmd.args([
            "-std=c11",
            "-D_POSIX_C_SOURCE=200809L",
            "-D_DEFAULT_SOURCE",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-Wno-format-truncation",
        ]);
    }
    cmd.arg("-I").arg(manifest().join("include"));
    cmd.arg("-I").arg(manifest().join("tests/c"));
    let path = if source.contains('/') { manifest().join(source) } else { manifest().join("tests/c").join(source) };
    cmd.arg(path);
    cmd.arg("-L").arg(lib).arg("-ltimsg");
    if cxx {
        cmd.arg("-ljsoncpp");
    }
    cmd.arg("-lpthread").arg(format!("-Wl,-rpath,{}", lib.display())).arg("-o").arg(out);
    let output = cmd.output().expect("the compiler runs");
    assert!(output.status.success(), "{source} does not compile:\n{}", String::from_utf8_lossy(&output.stderr));
}

/// Runs `program`, killing it if it has not finished within `limit` (a deadlock must fail
/// the test, not hang it).
pub fn run_within(program: &Path, args: &[&str], limit: std::time::Duration) -> String {
    let child = Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the program runs");
    let pid = child.id();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(limit).is_err() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            return true;
        }
        false
    });
    let output = child.wait_with_output().expect("the program ends");
    let _ = done_tx.send(());
    let killed = watchdog.join().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(!killed, "{} hung for {limit:?} (a deadlock):\n{stdout}", program.display());
    assert!(
        output.status.success(),
        "{} failed ({}):\n{stdout}\n{}",
        program.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}
