//! Cluster mode: a call for a conversation another node owns is forwarded to that node over
//! NATS request/reply (`timsg.call.<node>`) and answered as if it were local. Each node serves
//! the calls forwarded to it as their users, through the same dispatcher. A call is forwarded
//! only when this node could not claim the conversation (it answered "owned by node X"), so
//! nothing of it ran here; the owner is read from the conversation's lease.

use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use timsg_actors::cluster::{ClusterNode, Leases};
use timsg_actors::ids::{ConvKey, ConvType};

use super::ServiceState;
use super::api::{CallBody, begin_call};
use crate::dispatch::DispatchResult;

/// What travels to the owner: who calls, which function, and the call's arguments.
#[derive(Debug, Serialize, Deserialize)]
struct Forwarded<B> {
    user: String,
    api: String,
    body: B,
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
    leases: Leases,
    node: String,
    deadline: Duration,
}

fn subject(node: &str) -> String {
    let token: String = node.bytes().map(|b| format!("{b:02x}")).collect();
    format!("timsg.call.{token}")
}

impl Forwarding {
    pub fn new(cluster: &ClusterNode, deadline: Duration) -> Forwarding {
        Forwarding {
            client: cluster.cluster.client.clone(),
            leases: cluster.cluster.leases.clone(),
            node: cluster.node.clone(),
            deadline,
        }
    }

    /// The node to forward a call that failed with `desc` to: the owner of its conversation,
    /// when that is another node.
    pub async fn owner(&self, user: &str, body: &CallBody, desc: &str) -> Option<String> {
        if !desc.contains("owned by node") {
            return None;
        }
        let conv = body.conv_id.as_deref()?;
        let key = match ConvType::from_number(body.conv_type)? {
            ConvType::C2c => ConvKey::c2c(user, conv),
            ConvType::Group => ConvKey::group(conv),
            _ => return None,
        };
        let owner = self.leases.holder(&key.storage_key()).await.ok()??;
        (owner != self.node).then_some(owner)
    }

    /// Runs the call on node `to` and answers with its outcome.
    pub async fn forward(&self, to: &str, user: &str, api: &str, body: &CallBody) -> Result<ForwardedAnswer, String> {
        let request = Forwarded { user: user.into(), api: api.into(), body };
        let payload = serde_json::to_vec(&request).map_err(|e| e.to_string())?;
        let asked = self.client.request(subject(to), payload.into());
        let reply = tokio::time::timeout(self.deadline, asked)
            .await
            .map_err(|_| format!("node {to} did not answer the forwarded call in time"))?
            .map_err(|e| format!("cannot forward the call to node {to}: {e}"))?;
        serde_json::from_slice(&reply.payload).map_err(|e| format!("node {to} answered unreadably: {e}"))
    }
}

/// `r`, the outcome of `api` called here, or — when it failed because another node owns the
/// call's conversation (then nothing of it ran here) — the outcome of the call run there.
pub async fn served_by_owner(
    state: &ServiceState,
    user: &str,
    api: &str,
    body: &CallBody,
    r: DispatchResult,
) -> DispatchResult {
    if r.code != crate::error::code::ERR_DATABASE_OPERATE_FAILED {
        return r;
    }
    let Some(forwarding) = state.forwarding.as_ref() else { return r };
    let Some(owner) = forwarding.owner(user, body, &r.desc).await else { return r };
    metrics::counter!("timsg_cluster_calls_forwarded_total").increment(1);
    match forwarding.forward(&owner, user, api, body).await {
        Ok(a) => DispatchResult { code: a.code, desc: a.desc, json_params: a.json_params },
        Err(why) => DispatchResult { code: r.code, desc: why, json_params: String::new() },
    }
}

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
    let failed = |code: i32, desc: String| ForwardedAnswer { code, desc, json_params: String::new() };
    let call: Forwarded<CallBody> = match serde_json::from_slice(payload) {
        Ok(c) => c,
        Err(e) => return failed(crate::error::code::ERR_INVALID_PARAMETERS, format!("a forwarded call: {e}")),
    };
    let body = call.body;
    let activity = match state.session(&call.user) {
        Ok(a) => a,
        Err(e) => return failed(e.code, e.desc),
    };
    match begin_call(state, activity.session(), activity.hub().clone(), &call.api, &body) {
        Ok(begun) => {
            let r = begun.completion.await;
            ForwardedAnswer { code: r.code, desc: r.desc, json_params: r.json_params }
        }
        Err((_, e)) => failed(e.code, e.desc),
    }
}
