//! The acknowledgement log of a load run (`timsg load --ack-log FILE`), and its check against a
//! service (`timsg verify-acks`): the proof, after a crash, that nothing acknowledged was lost.
//!
//! Each operation the service acknowledged is appended as one JSON line as its answer
//! arrives: sends (with their ID and seq), revokes, read reports (with the highest seq
//! acknowledged in that conversation before the report was made), receive options and local
//! custom data. The file is appended to across runs, so a series of crashes is checked as a
//! whole. The check reads everything back over HTTP: every acknowledged message is there once,
//! each conversation's seqs run 1, 2, 3, … without a hole, revoked messages are revoked, read
//! points, receive options and custom data are as acknowledged.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, Write};
use std::path::Path;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One acknowledged operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Ack {
    Send {
        user: String,
        conv_type: u32,
        conv_id: String,
        id: String,
        seq: u64,
    },
    Revoke {
        user: String,
        conv_type: u32,
        conv_id: String,
        id: String,
    },
    /// `through`: the highest seq acknowledged in the conversation before the report.
    Read {
        user: String,
        conv_type: u32,
        conv_id: String,
        through: u64,
    },
    /// The user's C2C receive option for `peer`, set to `opt`.
    ReceiveOpt {
        user: String,
        peer: String,
        opt: u32,
    },
    CustomData {
        user: String,
        conv_type: u32,
        conv_id: String,
        id: String,
        text: String,
    },
}

/// Appends acknowledgements to a file, a line each, written as they come (the generator
/// outlives the service it checks, so its page cache is enough).
#[derive(Debug)]
pub struct AckLog {
    file: Mutex<std::fs::File>,
}

impl AckLog {
    pub fn append_to(path: &Path) -> Result<AckLog, String> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open the ack log {}: {e}", path.display()))?;
        Ok(AckLog { file: Mutex::new(file) })
    }

    pub fn record(&self, ack: &Ack) {
        let mut line = serde_json::to_vec(ack).expect("an ack always serializes");
        line.push(b'\n');
        if let Err(e) = self.file.lock().write_all(&line) {
            tracing::error!(error = %e, "cannot write the ack log");
        }
    }
}

/// Reads an ack log.
pub fn read(path: &Path) -> Result<Vec<Ack>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| e.to_string())?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(serde_json::from_str(&line).map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?);
    }
    Ok(out)
}

/// What the check found: counts of what it verified, and every discrepancy.
#[derive(Debug, Default, Serialize)]
pub struct Verdict {
    pub sends: usize,
    pub conversations: usize,
    pub revokes: usize,
    pub reads: usize,
    pub receive_opts: usize,
    pub custom_data: usize,
    pub problems: Vec<String>,
}

/// The history of one conversation as one user sees it, oldest first.
type History = Vec<Value>;

/// Reads what the service holds for everything in `acks`, as each user sees it, through
/// `call(user, api, body)` (the service's `/v1/<api>`), and compares.
pub async fn verify<F, Fut>(acks: &[Ack], call: F) -> Result<Verdict, String>
where
    F: Fn(String, &'static str, Value) -> Fut,
    Fut: std::future::Future<Output = Result<Value, String>>,
{
    let mut verdict = Verdict::default();
    // The histories needed, by (user, conversation as the user names it).
    let mut wanted: BTreeMap<(String, u32, String), ()> = BTreeMap::new();
    for ack in acks {
        match ack {
            Ack::Send { user, conv_type, conv_id, .. }
            | Ack::Revoke { user, conv_type, conv_id, .. }
            | Ack::Read { user, conv_type, conv_id, .. }
            | Ack::CustomData { user, conv_type, conv_id, .. } => {
                wanted.insert((user.clone(), *conv_type, conv_id.clone()), ());
            }
            Ack::ReceiveOpt { .. } => {}
        }
    }
    let mut histories: HashMap<(String, u32, String), History> = HashMap::new();
    for (user, conv_type, conv_id) in wanted.into_keys() {
        let history = read_history(&call, &user, conv_type, &conv_id).await?;
        histories.insert((user, conv_type, conv_id), history);
    }
    let by_id = |h: &History| -> HashMap<String, Value> {
        h.iter().map(|m| (m["message_msg_id"].as_str().unwrap_or("").to_string(), m.clone())).collect()
    };
    // Every conversation's seqs, as each of its viewers sees them: 1..=n, once each.
    for ((user, conv_type, conv_id), h) in &histories {
        let mut seqs: Vec<u64> = h.iter().filter_map(|m| m["message_seq"].as_u64()).filter(|s| *s > 0).collect();
        seqs.sort_unstable();
        let n = seqs.len() as u64;
        if seqs != (1..=n).collect::<Vec<_>>() {
            let first_bad = seqs.iter().zip(1..).find(|(s, i)| **s != *i).map(|(s, i)| (i, *s));
            verdict
                .problems
                .push(format!("{user} in {conv_type}:{conv_id}: seqs not 1..{n} (expected, found) {first_bad:?}"));
        }
        let ids: Vec<&str> = h.iter().filter_map(|m| m["message_msg_id"].as_str()).collect();
        if ids.iter().collect::<HashSet<_>>().len() != ids.len() {
            verdict.problems.push(format!("{user} in {conv_type}:{conv_id}: a message appears twice"));
        }
        verdict.conversations += 1;
    }
    let indexed: HashMap<&(String, u32, String), HashMap<String, Value>> =
        histories.iter().map(|(k, h)| (k, by_id(h))).collect();
    let find = |user: &str, conv_type: u32, conv_id: &str, id: &str| -> Option<&Value> {
        indexed.get(&(user.to_string(), conv_type, conv_id.to_string())).and_then(|m| m.get(id))
    };
    let mut custom: BTreeMap<(String, String), (u32, String, String)> = BTreeMap::new();
    let mut opts: BTreeMap<(String, String), u32> = BTreeMap::new();
    for ack in acks {
        match ack {
            Ack::Send { user, conv_type, conv_id, id, seq } => {
                verdict.sends += 1;
                match find(user, *conv_type, conv_id, id) {
                    None => verdict.problems.push(format!("acknowledged message {id} ({user}, seq {seq}) is missing")),
                    Some(m) if m["message_seq"].as_u64() != Some(*seq) => verdict
                        .problems
                        .push(format!("message {id} was acknowledged with seq {seq}, holds {}", m["message_seq"])),
                    Some(_) => {}
                }
            }
            Ack::Revoke { user, conv_type, conv_id, id } => {
                verdict.revokes += 1;
                let status = find(user, *conv_type, conv_id, id).and_then(|m| m["message_status"].as_u64());
                if status != Some(6) {
                    verdict.problems.push(format!("acknowledged revoke of {id} is not kept (status {status:?})"));
                }
            }
            Ack::Read { user, conv_type, conv_id, through } => {
                verdict.reads += 1;
                let h = &histories[&(user.clone(), *conv_type, conv_id.clone())];
                let unread = h.iter().find(|m| {
                    m["message_seq"].as_u64().is_some_and(|s| s > 0 && s <= *through)
                        && m["message_sender"].as_str() != Some(user.as_str())
                        && m["message_is_read"].as_bool() != Some(true)
                });
                if let Some(m) = unread {
                    verdict.problems.push(format!(
                        "{user} reported {conv_type}:{conv_id} read through seq {through}; seq {} is unread",
                        m["message_seq"]
                    ));
                }
            }
            Ack::ReceiveOpt { user, peer, opt } => {
                opts.insert((user.clone(), peer.clone()), *opt);
            }
            Ack::CustomData { user, conv_type, conv_id, id, text } => {
                custom.insert((user.clone(), id.clone()), (*conv_type, conv_id.clone(), text.clone()));
            }
        }
    }
    for ((user, id), (conv_type, conv_id, text)) in &custom {
        verdict.custom_data += 1;
        let held = find(user, *conv_type, conv_id, id).and_then(|m| m["message_custom_str"].as_str());
        if held != Some(text.as_str()) {
            verdict.problems.push(format!("{user}'s custom data on {id}: acknowledged {text:?}, holds {held:?}"));
        }
    }
    let mut by_user: BTreeMap<&str, Vec<(&str, u32)>> = BTreeMap::new();
    for ((user, peer), opt) in &opts {
        by_user.entry(user).or_default().push((peer, *opt));
    }
    for (user, peers) in by_user {
        for chunk in peers.chunks(30) {
            let ids: Vec<&str> = chunk.iter().map(|(p, _)| *p).collect();
            let held = call(user.to_string(), "TIMMsgGetC2CReceiveMessageOpt", json!({"param": ids})).await?;
            for (peer, opt) in chunk {
                verdict.receive_opts += 1;
                let got =
                    held.as_array().into_iter().flatten().find(|r| r["msg_recv_msg_opt_result_identifier"] == *peer);
                let got = got.and_then(|r| r["msg_recv_msg_opt_result_opt"].as_u64());
                if got != Some(u64::from(*opt)) {
                    verdict
                        .problems
                        .push(format!("{user}'s receive option for {peer}: acknowledged {opt}, holds {got:?}"));
                }
            }
        }
    }
    Ok(verdict)
}

/// Pages through a conversation's whole history as `user` sees it, oldest first.
async fn read_history<F, Fut>(call: &F, user: &str, conv_type: u32, conv_id: &str) -> Result<History, String>
where
    F: Fn(String, &'static str, Value) -> Fut,
    Fut: std::future::Future<Output = Result<Value, String>>,
{
    const PAGE: usize = 100;
    let mut out: History = Vec::new();
    let mut anchor: Option<String> = None;
    loop {
        let mut param = json!({"msg_getmsglist_param_count": PAGE, "msg_getmsglist_param_is_forward": true});
        if let Some(id) = &anchor {
            param["msg_getmsglist_param_last_msg"] = json!({"message_msg_id": id});
        }
        let body = json!({"conv_id": conv_id, "conv_type": conv_type, "param": param});
        let page = call(user.to_string(), "TIMMsgGetMsgList", body).await?;
        let page = page.as_array().cloned().unwrap_or_default();
        let full = page.len() == PAGE;
        anchor = page.last().and_then(|m| m["message_msg_id"].as_str()).map(str::to_string);
        out.extend(page);
        if !full || anchor.is_none() {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_are_written_a_line_each_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("acks.jsonl");
        let acks = vec![
            Ack::Send { user: "u1".into(), conv_type: 1, conv_id: "u2".into(), id: "m1".into(), seq: 1 },
            Ack::Read { user: "u2".into(), conv_type: 1, conv_id: "u1".into(), through: 1 },
            Ack::ReceiveOpt { user: "u2".into(), peer: "u1".into(), opt: 2 },
        ];
        let log = AckLog::append_to(&path).unwrap();
        for a in &acks[..2] {
            log.record(a);
        }
        drop(log);
        // Appended to, not replaced, by the next run.
        AckLog::append_to(&path).unwrap().record(&acks[2]);
        assert_eq!(read(&path).unwrap(), acks);
        std::fs::write(&path, "{\"op\":\"nonsense\"}\n").unwrap();
        assert!(read(&path).unwrap_err().contains(":1:"));
    }

    /// The check against a made-up service: a hole, a lost message and a revoke not kept are
    /// each reported; what is right is not.
    #[tokio::test]
    async fn the_check_finds_what_is_missing() {
        let acks = vec![
            Ack::Send { user: "u1".into(), conv_type: 1, conv_id: "u2".into(), id: "m1".into(), seq: 1 },
            Ack::Send { user: "u1".into(), conv_type: 1, conv_id: "u2".into(), id: "m3".into(), seq: 3 },
            Ack::Send { user: "u1".into(), conv_type: 1, conv_id: "u2".into(), id: "lost".into(), seq: 4 },
            Ack::Revoke { user: "u1".into(), conv_type: 1, conv_id: "u2".into(), id: "m1".into() },
        ];
        let held = json!([
            {"message_msg_id": "m1", "message_seq": 1, "message_status": 2, "message_sender": "u1"},
            {"message_msg_id": "m3", "message_seq": 3, "message_status": 2, "message_sender": "u1"},
        ]);
        let verdict = verify(&acks, |_, api, _| {
            let held = held.clone();
            async move {
                assert_eq!(api, "TIMMsgGetMsgList");
                Ok(held)
            }
        })
        .await
        .unwrap();
        assert_eq!((verdict.sends, verdict.revokes, verdict.conversations), (3, 1, 1));
        assert_eq!(verdict.problems.len(), 3, "{:?}", verdict.problems);
        assert!(verdict.problems[0].contains("seqs not 1..2"), "{:?}", verdict.problems);
        assert!(verdict.problems.iter().any(|p| p.contains("lost") && p.contains("missing")));
        assert!(verdict.problems.iter().any(|p| p.contains("revoke of m1")));
    }
}
