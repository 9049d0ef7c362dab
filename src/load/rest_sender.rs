//! Sends over the TIM server REST API (`timsg load --via rest`): each message is a
//! `POST /v4/openim/sendmsg` (C2C) or `/v4/group_open_http_svc/send_group_msg` (group) made
//! by the app's admin in the sender's name (`From_Account`), as a bot platform's server does.
//! The seq the delivery check needs comes from the reply: `MsgKey`'s first part for C2C,
//! `MsgSeq` for a group.

use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{Value, json};
use timsg_actors::ids::{ConvRef, ConvType};

/// The admin's credentials in the query string, and the next `MsgRandom`.
pub struct RestSender {
    query: String,
    random: AtomicU32,
}

impl RestSender {
    /// Calls as `admin` with its `usersig`; `MsgRandom`s start at `first_random` (a different
    /// one per run, so a second run against the same server is not taken for resends).
    pub fn new(sdkappid: u64, admin: &str, usersig: &str, first_random: u32) -> RestSender {
        let query = format!("sdkappid={sdkappid}&identifier={admin}&usersig={usersig}&contenttype=json");
        RestSender { query, random: AtomicU32::new(first_random) }
    }

    /// Sends `body` (a `MsgBody`) from `from` in `conv` (as the sender names it) and answers
    /// the message's seq and the reply.
    pub async fn send(
        &self,
        http: &reqwest::Client,
        base: &str,
        from: &str,
        conv: &ConvRef,
        body: Value,
    ) -> Result<(u64, Value), String> {
        let random = self.random.fetch_add(1, Ordering::Relaxed);
        let (command, request) = match conv.conv_type {
            ConvType::Group => (
                "group_open_http_svc/send_group_msg",
                json!({"GroupId": &*conv.id, "From_Account": from, "Random": random, "MsgBody": body}),
            ),
            _ => (
                "openim/sendmsg",
                json!({"From_Account": from, "To_Account": &*conv.id, "MsgRandom": random, "MsgBody": body}),
            ),
        };
        let reply = self.post(http, base, command, random, &request).await?;
        let seq = match conv.conv_type {
            ConvType::Group => reply["MsgSeq"].as_u64(),
            _ => reply["MsgKey"].as_str().and_then(|k| k.split('_').next()?.parse().ok()),
        };
        seq.map(|s| (s, reply.clone())).ok_or_else(|| format!("{command}: no seq in {reply}"))
    }
}

impl RestSender {
    /// `POST /v4/<command>` as the admin; the reply of a command that succeeded.
    async fn post(
        &self,
        http: &reqwest::Client,
        base: &str,
        command: &str,
        random: u32,
        request: &Value,
    ) -> Result<Value, String> {
        let url = format!("{base}/v4/{command}?{}&random={random}", self.query);
        let resp = http.post(url).body(request.to_string()).send().await.map_err(|e| e.to_string())?;
        let reply: Value =
            serde_json::from_slice(&resp.bytes().await.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
        match reply["ActionStatus"] == "OK" {
            true => Ok(reply),
            false => Err(format!("{command}: {reply}")),
        }
    }

    /// Sends one text message from `from` to each of `to` with `/v4/openim/batchsendmsg` (the
    /// batch-send fan-out); answers the receivers it failed for (its `ErrorList`).
    pub async fn batch(
        &self,
        http: &reqwest::Client,
        base: &str,
        from: &str,
        to: &[String],
    ) -> Result<Vec<String>, String> {
        let random = self.random.fetch_add(1, Ordering::Relaxed);
        let request = json!({"From_Account": from, "To_Account": to, "MsgRandom": random,
            "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "load batch message"}}]});
        let reply = self.post(http, base, "openim/batchsendmsg", random, &request).await?;
        Ok(reply["ErrorList"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["To_Account"].as_str().map(str::to_string))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn randoms_differ_between_messages() {
        let s = RestSender::new(1, "administrator", "sig", u32::MAX);
        assert_eq!(s.random.fetch_add(1, Ordering::Relaxed), u32::MAX);
        assert_eq!(s.random.load(Ordering::Relaxed), 0, "wraps");
        assert!(s.query.starts_with("sdkappid=1&identifier=administrator&usersig=sig"));
    }
}
