//! Whole-user reads in cluster mode (search over all conversations, find by ID, the unread
//! messages a login catches up on): a node's
//! store holds only the conversations it owns or owned, so the read is asked of every node
//! listed in the cluster ([`super::Members`]) over NATS request/reply
//! (`timsg.gather.<hex of the node's name>`), within one deadline, and the answers are merged.
//!
//! Each node answers for the conversations of its store that it runs now or can claim (a
//! conversation another node owns is that node's to answer), each with the log position its
//! store holds. A conversation answered twice (its owner changed during the read) keeps the
//! answer of the later position. A listed node that does not answer in time, or is listed but
//! gone, fails the read with a code: its conversations may be missing, and a partial answer is
//! not given as a whole one.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::log_of_record::subject_token;
use super::{Cluster, Members};
use crate::ids::{ConvRef, ConvType};
use crate::message::{LocalCustomData, MessageView, StoredMessage};
use crate::search::SearchQuery;

/// What a whole-user read asks of each node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum WholeUserRead {
    /// Messages matching the query, over all of the user's conversations (unpaged: the
    /// asking node pages the merged matches).
    Search(SearchQuery),
    /// Messages by ID.
    Find(Vec<String>),
    /// The messages from others the user has not read (a login's catch-up).
    Unread,
}

/// One conversation's answer: what the read found in it, as of `position` in its log.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvPart {
    pub conv: ConvRef,
    pub position: u64,
    pub views: Vec<MessageView>,
}

/// The request on the wire.
#[derive(Debug, Serialize, Deserialize)]
pub struct GatherRequest {
    pub user: String,
    pub read: WholeUserRead,
}

/// A [`ConvPart`] on the wire.
#[derive(Debug, Serialize, Deserialize)]
struct WirePart {
    conv_type: ConvType,
    conv_id: String,
    position: u64,
    views: Vec<WireView>,
}

#[derive(Debug, Serialize, Deserialize)]
struct WireView {
    message: StoredMessage,
    is_self: bool,
    is_read: bool,
    is_peer_read: bool,
    custom: LocalCustomData,
}

impl From<&ConvPart> for WirePart {
    fn from(p: &ConvPart) -> WirePart {
        WirePart {
            conv_type: p.conv.conv_type,
            conv_id: p.conv.id.to_string(),
            position: p.position,
            views: p
                .views
                .iter()
                .map(|v| WireView {
                    message: (*v.message).clone(),
                    is_self: v.is_self,
                    is_read: v.is_read,
                    is_peer_read: v.is_peer_read,
                    custom: v.custom.clone(),
                })
                .collect(),
        }
    }
}

impl From<WirePart> for ConvPart {
    fn from(p: WirePart) -> ConvPart {
        let conv = ConvRef { conv_type: p.conv_type, id: p.conv_id.into() };
        let views = p
            .views
            .into_iter()
            .map(|v| MessageView {
                conv: conv.clone(),
                message: v.message.into(),
                is_self: v.is_self,
                is_read: v.is_read,
                is_peer_read: v.is_peer_read,
                custom: v.custom,
            })
            .collect();
        ConvPart { conv, position: p.position, views }
    }
}

fn subject(node: &str) -> String {
    format!("timsg.gather.{}", subject_token(node))
}

/// Asks `read` of every listed node but `own`, within `deadline`; their parts, or why a node
/// could not answer.
pub async fn ask_others(
    cluster: &Cluster,
    members: &Members,
    own: &str,
    request: &GatherRequest,
    deadline: Duration,
) -> Result<Vec<ConvPart>, String> {
    let until = tokio::time::Instant::now() + deadline;
    let nodes = tokio::time::timeout_at(until, members.list())
        .await
        .map_err(|_| format!("the cluster's nodes could not be listed within {deadline:?}"))??;
    let payload = bytes::Bytes::from(serde_json::to_vec(request).map_err(|e| e.to_string())?);
    let asks = nodes.into_iter().filter(|n| n != own).map(|node| {
        let (client, payload) = (cluster.client.clone(), payload.clone());
        async move {
            let reply = match tokio::time::timeout_at(until, client.request(subject(&node), payload)).await {
                Err(_) => return Err(format!("node {node} did not answer within {deadline:?}")),
                Ok(Err(e)) if e.kind() == async_nats::RequestErrorKind::NoResponders => {
                    return Err(format!(
                        "node {node} is not running (its conversations move to other nodes within the lease time)"
                    ));
                }
                Ok(Err(e)) => return Err(format!("cannot ask node {node}: {e}")),
                Ok(Ok(reply)) => reply,
            };
            let answer: Result<Vec<WirePart>, String> =
                serde_json::from_slice(&reply.payload).map_err(|e| format!("node {node} answered unreadably: {e}"))?;
            answer.map_err(|e| format!("node {node} could not read: {e}"))
        }
    });
    let mut parts = Vec::new();
    for answer in futures_util::future::join_all(asks).await {
        parts.extend(answer?.into_iter().map(ConvPart::from));
    }
    Ok(parts)
}

/// Merges the parts of all nodes: one per conversation, the one of the latest log position,
/// in one order whoever answered first (conversations whose matches tie in time then page the
/// same way every time).
pub fn merge(parts: Vec<ConvPart>) -> Vec<ConvPart> {
    let mut by_conv: HashMap<ConvRef, ConvPart> = HashMap::new();
    for part in parts {
        match by_conv.get(&part.conv) {
            Some(kept) if kept.position >= part.position => {}
            _ => {
                by_conv.insert(part.conv.clone(), part);
            }
        }
    }
    let mut merged: Vec<ConvPart> = by_conv.into_values().collect();
    merged.sort_by(|x, y| (x.conv.conv_type.number(), &x.conv.id).cmp(&(y.conv.conv_type.number(), &y.conv.id)));
    merged
}

/// The future that answers one request on this node.
pub type Answering = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<ConvPart>, String>> + Send>>;

/// Answers the reads other nodes ask of `node` with `answer`, each in a task of its own, until
/// the connection ends. The node is listed in the cluster (and so asked) once it listens.
pub async fn serve(cluster: &Cluster, node: &str, answer: impl Fn(GatherRequest) -> Answering) {
    let listening = async {
        let asked = cluster.client.subscribe(subject(node)).await?;
        cluster.client.flush().await?;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(asked)
    };
    let mut asked = match listening.await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot take whole-user reads from other nodes");
            return;
        }
    };
    tokio::spawn(cluster.members.clone().keep_announcing());
    while let Some(message) = asked.next().await {
        let Some(reply) = message.reply.clone() else { continue };
        let answering = match serde_json::from_slice::<GatherRequest>(&message.payload) {
            Ok(request) => answer(request),
            Err(e) => {
                let why = format!("an unreadable request: {e}");
                Box::pin(async move { Err(why) })
            }
        };
        let client = cluster.client.clone();
        tokio::spawn(async move {
            let parts = answering.await.map(|p| p.iter().map(WirePart::from).collect::<Vec<_>>());
            match serde_json::to_vec(&parts) {
                Ok(text) => {
                    let _ = client.publish(reply, text.into()).await;
                }
                Err(e) => tracing::error!(error = %e, "cannot write a whole-user read's answer"),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(conv: &str, position: u64) -> ConvPart {
        ConvPart { conv: ConvRef::c2c(conv), position, views: Vec::new() }
    }

    #[test]
    fn a_conversation_answered_twice_keeps_the_later_answer() {
        let merged = merge(vec![part("b", 1), part("a", 3), part("a", 7), part("a", 5)]);
        assert_eq!(merged, vec![part("a", 7), part("b", 1)]);
    }
}
