//! `timsg dispatch`: calls as JSON lines on standard input, answers on standard output; and
//! `timsg --version`.

use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn calls_over_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_timsg"))
        .args(["dispatch", "--user", "alice", "--durability", "os", "--data-dir"])
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let input = [
        r#"{"tag": 1, "api": "TIMMsgSendMessage", "conv_id": "bob", "conv_type": 1, "json": {"message_elem_array": [{"elem_type": 0, "text_elem_content": "from a pipe"}]}}"#,
        r#"{"tag": 2, "api": "TIMMsgSendMessage", "conv_id": "bob", "conv_type": 9, "json": "{}"}"#,
        r#"not a call"#,
    ];
    child.stdin.take().unwrap().write_all(input.join("\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let by_tag =
        |t: i64| lines.iter().find(|l| l["tag"] == t).unwrap_or_else(|| panic!("no answer for {t}: {lines:?}"));
    assert_eq!(by_tag(1)["code"], 0);
    let sent: serde_json::Value = serde_json::from_str(by_tag(1)["json_params"].as_str().unwrap()).unwrap();
    assert_eq!(sent["message_elem_array"][0]["text_elem_content"], "from a pipe");
    assert_eq!(by_tag(1)["message_id"], sent["message_msg_id"]);
    assert_eq!(by_tag(2)["code"], -5);
    assert!(lines.iter().any(|l| l["code"] == -3), "the bad line is answered: {lines:?}");

    // The message is in the store for the next run.
    let mut child = Command::new(env!("CARGO_BIN_EXE_timsg"))
        .args(["dispatch", "--user", "bob", "--durability", "os", "--data-dir"])
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"api": "TIMMsgGetMsgList", "conv_id": "alice", "conv_type": 1}"#)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let line: serde_json::Value =
        serde_json::from_str(String::from_utf8(out.stdout).unwrap().lines().next().unwrap()).unwrap();
    let history: serde_json::Value = serde_json::from_str(line["json_params"].as_str().unwrap()).unwrap();
    assert_eq!(history[0]["message_elem_array"][0]["text_elem_content"], "from a pipe");
}

#[test]
fn version_names_the_release_and_the_commit() {
    let out = Command::new(env!("CARGO_BIN_EXE_timsg")).arg("--version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let commit = text.trim().strip_prefix(&format!("timsg {} (commit ", env!("CARGO_PKG_VERSION")));
    let commit = commit.and_then(|c| c.strip_suffix(')')).unwrap_or_else(|| panic!("{text}"));
    assert!(commit == "unknown" || (commit.len() == 12 && commit.bytes().all(|b| b.is_ascii_hexdigit())), "{text}");
}
