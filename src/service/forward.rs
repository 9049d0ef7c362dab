//! Cluster mode: a call for a conversation another node owns is forwarded to that node over
//! NATS request/reply (`timsg.call.<node>`) and answered as if it were local. Each node serves
//! the calls forwarded to it as their users, through the same dispatcher. A call is forwarded
//! only when this node could not claim the conversation (it answered "owned by node X", having
//! read the lease), so nothing of it ran here. An owner that is down (no node answers for it)
//! got nothing either: the call is tried again here until the dead node's lease expires.

use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use timsg_actors::cluster::ClusterNode;
use timsg_actors::cluster::node::OWNED_BY;

use super::ServiceState;
use super::api::{CallBody, begin_call};
use crate::dispatch::DispatchResult;

/// What travels to the owner: a call — who calls, which function, its arguments — or a
/// REST v4 command (as the admin, already authenticated by the node that took it).
#[derive(Debug, Serialize, Deserialize)]
enum Forwarded<B> {
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
pub async fn served_by_owner(
    state: &ServiceState,
    user: &str,
    api: &str,
    body: &CallBody,
    mut r: DispatchResult,
) -> DispatchResult {
    let Some(forwarding) = state.forwarding.as_ref() else { return r };
    // One deadline for the whole call, however many owners it meets.
    let until = tokio::time::Instant::now() + forwarding.deadline;
    if api == BATCH_SEND && r.code == 0 {
        return batch_served_by_owners(state, forwarding, user, body, r, until).await;
    }
    let retry_here = |r: DispatchResult| async move {
        tokio::time::sleep(RETRY_AFTER_OWNER_LOST).await;
        match tokio::time::timeout_at(until, run_here(state, user, api, body)).await {
            Ok(r) => r,
            Err(_) => DispatchResult {
                desc: format!("{} (the call's deadline passed while the conversation changed owners)", r.desc),
                ..r
            },
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
            Ok(a) => return DispatchResult { code: a.code, desc: a.desc, json_params: a.json_params },
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
async fn batch_served_by_owners(
    state: &ServiceState,
    forwarding: &Forwarding,
    user: &str,
    body: &CallBody,
    mut r: DispatchResult,
    until: tokio::time::Instant,
) -> DispatchResult {
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
            Ok(run_here(state, user, BATCH_SEND, &part).await)
        } else {
            metrics::counter!("timsg_cluster_calls_forwarded_total").increment(1);
            forwarding.forward(&node, user, BATCH_SEND, &part, left).await.map(|a| DispatchResult {
                code: a.code,
                desc: a.desc,
                json_params: a.json_params,
            })
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
pub(super) const RETRY_AFTER_OWNER_LOST: Duration = Duration::from_millis(250);

/// Serves the calls other nodes forward to this one, each as its user through the dispatcher.
pub async fn serve_forwarded(state: actix_web::web::Data<ServiceState>) {
    let Some(forwarding) = state.forwarding.as_ref() else { return };
    let mut calls = match forwarding.client.subscribe(subject(&forwarding.node)).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot take forwarded calls");
            return;
        }
    };
    while let Some(message) = calls.next().await {
        let Some(reply) = message.reply.clone() else { continue };
        let state = state.clone();
        actix_web::rt::spawn(async move {
            let answer = run_forwarded(&state, &message.payload).await;
            let text = serde_json::to_vec(&answer).unwrap_or_default();
            if let Some(f) = state.forwarding.as_ref() {
                let _ = f.client.publish(reply, text.into()).await;
            }
        });
    }
}

async fn run_forwarded(state: &ServiceState, payload: &[u8]) -> ForwardedAnswer {
    match serde_json::from_slice::<Forwarded<CallBody>>(payload) {
        Ok(Forwarded::Call { user, api, body }) => {
            let r = run_here(state, &user, &api, &body).await;
            ForwardedAnswer { code: r.code, desc: r.desc, json_params: r.json_params }
        }
        Ok(Forwarded::Rest { service, command, body }) => {
            match super::rest_v4::run_command(state, &service, &command, &body).await {
                Ok(keys) => {
                    ForwardedAnswer { code: 0, desc: String::new(), json_params: Value::Object(keys).to_string() }
                }
                Err(e) => ForwardedAnswer { code: e.code, desc: e.info, json_params: String::new() },
            }
        }
        Err(e) => ForwardedAnswer {
            code: crate::error::code::ERR_INVALID_PARAMETERS,
            desc: format!("a forwarded call: {e}"),
            json_params: String::new(),
        },
    }
}

/// Runs `api` as `user` on this node, through its dispatcher.
async fn run_here(state: &ServiceState, user: &str, api: &str, body: &CallBody) -> DispatchResult {
    let failed = |e: crate::error::TimError| DispatchResult { code: e.code, desc: e.desc, json_params: String::new() };
    let activity = match state.session(user) {
        Ok(a) => a,
        Err(e) => return failed(e),
    };
    match begin_call(state, activity.session(), activity.hub().clone(), api, body) {
        Ok(begun) => begun.completion.await,
        Err((_, e)) => failed(e),
    }
}
