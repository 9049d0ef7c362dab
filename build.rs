//! Records the git commit the crate is built from (`TIMSG_GIT_COMMIT`, shown by
//! `timsg --version`): `unknown` outside a git checkout.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=TIMSG_GIT_COMMIT={commit}");
    // Rebuilt when HEAD moves: a commit, a checkout.
    println!("cargo:rerun-if-changed=.git/HEAD");
    if let Some(head_ref) =
        std::fs::read_to_string(".git/HEAD").ok().and_then(|h| h.strip_prefix("ref: ").map(|r| r.trim().to_string()))
    {
        println!("cargo:rerun-if-changed=.git/{head_ref}");
    }
}
