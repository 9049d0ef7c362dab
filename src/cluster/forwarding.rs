//! Cluster mode: a call for a conversation another node owns is forwarded to that node over
//! NATS request/reply (`timsg.call.<node>`) and answered as if it were local. Each node — a
//! `timsg serve` or a C ABI embedder — serves the calls forwarded to it as their users, through
//! the same dispatcher ([`Forwarding::requests`]). A call is forwarded only when this node
//! could not claim the conversation (it answered "owned by node X", having read the lease), so
//! nothing of it ran here. An owner that is down (no node answers for it) got nothing either:
//! the call is tried again here until the dead node's lease expires.

use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use timsg_actors::cluster::ClusterNode;
use timsg_actors::cluster::node::OWNED_BY;

use crate::dispatch::{CallBody, DispatchResult};

/// What travels to the owner: a call — who calls, which function, its arguments — or a
/// REST v4 command (as the admin, already authenticated by the node that took it).
#[derive(Debug, Serialize, Deserialize)]
pub enum Forwarded<B> {
    Call { user: String, api: String, body: B },
    Rest { service: String, command: String, body: Value },
}

/// The owner's answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct ForwardedAnswer {
    pub code: i32,
    pub desc: String,
    pub json_params: String,
}

impl From<DispatchResult> for ForwardedAnswer {
    fn from(r: DispatchResult) -> Self {
        ForwardedAnswer { code: r.code, desc: r.desc, json_params: r.json_params }
    }
}

impl From<ForwardedAnswer> for DispatchResult {
    fn from(a: ForwardedAnswer) -> Self {
        DispatchResult { code: a.code, desc: a.desc, json_params: a.json_params }
    }
}

/// This node's side of forwarding.
pub struct Forwarding {
    client: async_nats::Client,
    node: String,
    deadline: Duration,
}

fn subject(node: &str) -> String {
    format!("timsg.call.{}", timsg_actors::cluster::log_of_record::subject_token(node))
}

impl Forwarding {
    pub fn new(cluster: &ClusterNode, deadline: Duration) -> Forwarding {
        Forwarding { client: cluster.cluster.client.clone(), node: cluster.node.clone(), deadline }
    }

    /// This node's name in the cluster.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// How long a call may take, however many owners it meets.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Who owns the conversation of a call that failed with `desc` because another node
    /// owned it — the node the refusal names (it read the lease when it refused) — or `None`
    /// if that is not why it failed. Read from the refusal, it holds for calls that name
    /// their conversation anywhere (a group ID inside the call's parameters, too).
    pub fn owner(&self, desc: &str) -> Option<Owner> {
        let (_, node) = desc.split_once(OWNED_BY)?;
        let node = node.trim();
        if node.is_empty() || node == self.node {
            return Some(Owner::Nobody);
        }
        Some(Owner::Node(node.to_string()))
    }

    /// Runs the call on node `to` and answers with its outcome.
    pub async fn forward(
        &self,
        to: &str,
        user: &str,
        api: &str,
        body: &CallBody,
        within: Duration,
    ) -> Result<ForwardedAnswer, ForwardError> {
        self.send(to, &Forwarded::Call { user: user.into(), api: api.into(), body }, within).await
    }

    /// Runs the REST v4 command on node `to`: its outcome, the answer's keys as `json_params`.
    pub async fn forward_rest(
        &self,
        to: &str,
        service: &str,
        command: &str,
        body: &Value,
        within: Duration,
    ) -> Result<ForwardedAnswer, ForwardError> {
        let request: Forwarded<()> =
            Forwarded::Rest { service: service.into(), command: command.into(), body: body.clone() };
        self.send(to, &request, within).await
    }

    async fn send<B: Serialize>(
        &self,
        to: &str,
        request: &Forwarded<B>,
        within: Duration,
    ) -> Result<ForwardedAnswer, ForwardError> {
        let payload = serde_json::to_vec(request).map_err(|e| ForwardError::Failed(e.to_string()))?;
        let asked = self.client.request(subject(to), payload.into());
        let reply = match tokio::time::timeout(within, asked).await {
            Err(_) => return Err(ForwardError::Failed(format!("node {to} did not answer the forwarded call in time"))),
            Ok(Err(e)) if e.kind() == async_nats::RequestErrorKind::NoResponders => {
                return Err(ForwardError::NoOwner(format!("node {to}, which owns the conversation, is not running")));
            }
            Ok(Err(e)) => return Err(ForwardError::Failed(format!("cannot forward the call to node {to}: {e}"))),
            Ok(Ok(reply)) => reply,
        };
        serde_json::from_slice(&reply.payload)
            .map_err(|e| ForwardError::Failed(format!("node {to} answered unreadably: {e}")))
    }
}

/// Who owns a conversation, as its lease says.
#[derive(Debug)]
pub enum Owner {
    Node(String),
    /// The refusal names no other node: the call can run here once the lease is free.
    Nobody,
}

/// Why a forwarded call got no answer.
#[derive(Debug)]
pub enum ForwardError {
    /// No node serves the owner's calls: it is down, so nothing of the call ran. Its lease
    /// expires within the lease time; then another node may claim the conversation.
    NoOwner(String),
    /// The call may or may not have run there.
    Failed(String),
}

/// Whether a call's outcome here says another node owns its conversation (nothing of it ran).
pub fn owned_elsewhere(r: &DispatchResult) -> bool {
    r.code == crate::error::code::ERR_DATABASE_OPERATE_FAILED && r.desc.contains(OWNED_BY)
}

/// `r`, the outcome of `api` called here, or — when it failed because another node owns the
/// call's conversation (then nothing of it ran here) — the outcome of the call run there.
/// `run_here` runs the call (or a part of a batch send) on this node again, once the lease of
/// an owner that died is free.
pub async fn served_by_owner<F, Fut>(
    forwarding: &Forwarding,
    user: &str,
    api: &str,
    body: &CallBody,
    mut r: DispatchResult,
    run_here: F,
) -> DispatchResult
where
    F: Fn(CallBody) -> Fut,
    Fut: std::future::Future<Output = DispatchResult>,
{
    // One deadline for the whole call, however many owners it meets.
    let until = tokio::time::Instant::now() + forwarding.deadline;
    if api == BATCH_SEND && r.code == 0 {
        return batch_served_by_owners(forwarding, user, body, r, until, run_here).await;
    }
    let retry_here = |r: DispatchResult| {
        let again = run_here(body.clone());
        async move {
            tokio::time::sleep(RETRY_AFTER_OWNER_LOST).await;
            match tokio::time::timeout_at(until, again).await {
                Ok(r) => r,
                Err(_) => DispatchResult {
                    desc: format!("{} (the call's deadline passed while the conversation changed owners)", r.desc),
                    ..r
                },
            }
        }
    };
    loop {
        if !owned_elsewhere(&r) {
            return r;
        }
        let owner = match forwarding.owner(&r.desc) {
            None => return r,
            Some(Owner::Node(node)) => node,
            Some(Owner::Nobody) if tokio::time::Instant::now() + RETRY_AFTER_OWNER_LOST < until => {
                r = retry_here(r).await;
                continue;
            }
            Some(Owner::Nobody) => return r,
        };
        metrics::counter!("timsg_cluster_calls_forwarded_total").increment(1);
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        match forwarding.forward(&owner, user, api, body, left).await {
            Ok(a) => return a.into(),
            // The owner died: nothing of the call ran anywhere, so it is tried again — here,
            // where it runs once the dead node's lease has expired and this node claims the
            // conversation, or on whichever node claimed it first — until the call's deadline.
            Err(ForwardError::NoOwner(why)) if tokio::time::Instant::now() + RETRY_AFTER_OWNER_LOST < until => {
                tracing::debug!(user, api, why, "the owner is down; trying the call again");
                r = retry_here(r).await;
            }
            Err(ForwardError::NoOwner(why) | ForwardError::Failed(why)) => {
                return DispatchResult { code: r.code, desc: why, json_params: String::new() };
            }
        }
    }
}

const BATCH_SEND: &str = "TIMMsgBatchSend";

/// A batch send whose receivers' conversations are owned by several nodes: each receiver
/// refused here because another node owns its conversation (nothing was sent to it) is sent
/// to by that node, in one batch per node, and its result put in its place.
async fn batch_served_by_owners<F, Fut>(
    forwarding: &Forwarding,
    user: &str,
    body: &CallBody,
    mut r: DispatchResult,
    until: tokio::time::Instant,
    run_here: F,
) -> DispatchResult
where
    F: Fn(CallBody) -> Fut,
    Fut: std::future::Future<Output = DispatchResult>,
{
    let Ok(mut results) = serde_json::from_str::<Vec<Value>>(&r.json_params) else { return r };
    let mut by_owner: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
    for (at, result) in results.iter().enumerate() {
        let refused = result["msg_batch_send_result_code"] == crate::error::code::ERR_DATABASE_OPERATE_FAILED;
        let desc = result["msg_batch_send_result_desc"].as_str().unwrap_or("");
        if refused && let Some(owner) = forwarding.owner(desc) {
            let node = match owner {
                Owner::Node(node) => node,
                // The lease is free now: sent here again.
                Owner::Nobody => forwarding.node.clone(),
            };
            by_owner.entry(node).or_default().push(at);
        }
    }
    if by_owner.is_empty() {
        return r;
    }
    let Ok(mut param) = serde_json::from_str::<Value>(&crate::dispatch::argument_text(&body.param)) else { return r };
    for (node, at) in by_owner {
        let receivers: Vec<Value> =
            at.iter().map(|&i| results[i]["msg_batch_send_result_identifier"].clone()).collect();
        param["msg_batch_send_param_identifier_array"] = Value::from(receivers);
        let part = CallBody { param: param.clone(), ..body.clone() };
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        let answer = if node == forwarding.node {
            tokio::time::sleep(RETRY_AFTER_OWNER_LOST.min(left)).await;
            Ok(run_here(part).await)
        } else {
            metrics::counter!("timsg_cluster_calls_forwarded_total").increment(1);
            forwarding.forward(&node, user, BATCH_SEND, &part, left).await.map(DispatchResult::from)
        };
        let sent: Vec<Value> = match answer {
            Ok(a) if a.code == 0 => serde_json::from_str(&a.json_params).unwrap_or_default(),
            Ok(a) => failed_receivers(&results, &at, a.code, &a.desc),
            Err(ForwardError::NoOwner(why) | ForwardError::Failed(why)) => {
                failed_receivers(&results, &at, crate::error::code::ERR_DATABASE_OPERATE_FAILED, &why)
            }
        };
        for (&i, result) in at.iter().zip(sent) {
            results[i] = result;
        }
    }
    r.json_params = Value::from(results).to_string();
    r
}

/// The results of receivers `at` when their part of a batch failed as a whole.
fn failed_receivers(results: &[Value], at: &[usize], code: i32, desc: &str) -> Vec<Value> {
    at.iter()
        .map(|&i| {
            let mut failed = results[i].clone();
            failed["msg_batch_send_result_code"] = code.into();
            failed["msg_batch_send_result_desc"] = desc.into();
            failed
        })
        .collect()
}

/// How long a call whose owner died waits before it is tried again.
pub const RETRY_AFTER_OWNER_LOST: Duration = Duration::from_millis(250);

impl Forwarding {
    /// The calls other nodes forward to this one, as they come.
    pub async fn requests(&self) -> Result<ForwardedRequests, String> {
        let calls = self.client.subscribe(subject(&self.node)).await.map_err(|e| e.to_string())?;
        Ok(ForwardedRequests { calls, client: self.client.clone() })
    }
}

/// The calls forwarded to this node (see [`Forwarding::requests`]).
pub struct ForwardedRequests {
    calls: async_nats::Subscriber,
    client: async_nats::Client,
}

impl ForwardedRequests {
    /// The next forwarded call; `None` when the connection is gone for good.
    pub async fn next(&mut self) -> Option<ForwardedRequest> {
        loop {
            let message = self.calls.next().await?;
            let Some(reply) = message.reply.clone() else { continue };
            let call = serde_json::from_slice::<Forwarded<CallBody>>(&message.payload).map_err(|e| e.to_string());
            return Some(ForwardedRequest { call, reply, client: self.client.clone() });
        }
    }
}

/// One forwarded call, to be run here as its user and answered.
pub struct ForwardedRequest {
    /// The call, or why it could not be read.
    pub call: Result<Forwarded<CallBody>, String>,
    reply: async_nats::Subject,
    client: async_nats::Client,
}

impl ForwardedRequest {
    /// Sends the outcome back to the node that forwarded the call.
    pub async fn answer(self, answer: ForwardedAnswer) {
        let text = serde_json::to_vec(&answer).unwrap_or_default();
        if let Err(e) = self.client.publish(self.reply, text.into()).await {
            tracing::warn!(error = %e, "cannot answer a forwarded call");
        }
    }

    /// The answer to a call that could not be read.
    pub fn unreadable(why: &str) -> ForwardedAnswer {
        ForwardedAnswer {
            code: crate::error::code::ERR_INVALID_PARAMETERS,
            desc: format!("a forwarded call: {why}"),
            json_params: String::new(),
        }
    }
}
