//! Reads over all of a user's conversations — search, find by ID, what is unread — as this
//! node's share and,
//! in cluster mode, as the whole cluster's (see [`crate::cluster::gather`]).
//!
//! On a single node the share is the whole. In a cluster a node reads only the conversations
//! it runs or can claim: one another node owns is skipped here, because that node answers for
//! it (its store holds it, caught up when it claimed it). The parts of every node are merged,
//! one per conversation, and the asking node assembles the answer (sorting and paging a
//! search, ordering found messages as asked).

use crate::actors::ConvOp;
use crate::cluster::gather::{self, ConvPart, GatherRequest, WholeUserRead};
use crate::cluster::node::OWNED_BY;
use crate::engine::Engine;
use crate::error::{ConvError, ConvResult};
use crate::history::MessageTarget;
use crate::ids::{ConvKey, ConvRef, UserId};
use crate::message::MessageView;
use crate::search::{SearchQuery, SearchResult};
use std::collections::BTreeMap;

/// Whether a conversation's call failed because another node owns it (nothing ran here).
fn owned_elsewhere(e: &ConvError) -> bool {
    matches!(e, ConvError::Store(why) if why.contains(OWNED_BY))
}

impl Engine {
    /// Local search: store candidates, then each conversation keeps what `user` can see; in
    /// cluster mode a search of all conversations covers every node's.
    pub async fn search(&self, user: &UserId, query: SearchQuery) -> ConvResult<SearchResult> {
        let started = std::time::Instant::now();
        let mut parts = self.search_here(user, &query).await?;
        if query.conv.is_none() {
            parts = self.with_other_nodes(user, WholeUserRead::Search(query.clone()), parts).await?;
        }
        let result = crate::search::assemble(&query, parts.into_iter().map(|p| (p.conv, p.views)).collect());
        metrics::histogram!("timsg_search_seconds").record(started.elapsed().as_secs_f64());
        Ok(result)
    }

    /// Finds messages by ID among `user`'s conversations and local messages, in the order
    /// asked; in cluster mode among every node's.
    pub async fn find_messages(&self, user: &UserId, ids: &[String]) -> ConvResult<Vec<MessageView>> {
        let here = self.find_here(user, ids).await?;
        let parts = self.with_other_nodes(user, WholeUserRead::Find(ids.to_vec()), here).await?;
        let mut found: Vec<MessageView> = parts.into_iter().flat_map(|p| p.views).collect();
        found.sort_by_key(|v| ids.iter().position(|i| *i == *v.message.id));
        found.dedup_by(|a, b| a.message.id == b.message.id);
        Ok(found)
    }

    /// The messages from others `user` has not read, per conversation (in seq order), over
    /// every node's conversations: what a login in cluster mode catches up on.
    pub async fn unread_everywhere(&self, user: &UserId) -> ConvResult<Vec<(ConvRef, Vec<MessageView>)>> {
        let here = self.unread_here(user).await?;
        let parts = self.with_other_nodes(user, WholeUserRead::Unread, here).await?;
        Ok(parts.into_iter().filter(|p| !p.views.is_empty()).map(|p| (p.conv, p.views)).collect())
    }

    /// This node's share of what `user` has not read.
    async fn unread_here(&self, user: &UserId) -> ConvResult<Vec<ConvPart>> {
        let shared = self.shared();
        let upto = self.newest_message_mark()?;
        let (store, u) = (shared.store.clone(), user.clone());
        let candidates = shared
            .slow_reads
            .run(move || store.messages_between(&u, 0, upto))
            .await?
            .map_err(crate::engine::store_err)?;
        let mut parts = Vec::with_capacity(candidates.len());
        for (key, (shared_seqs, _)) in candidates {
            let u = user.clone();
            let visible = self
                .call(&key, |reply| ConvOp::FilterVisible { user: u, shared: shared_seqs, local: Vec::new(), reply })
                .await
                .map(|mut views| {
                    views.retain(|v| !v.is_read && !v.is_self);
                    views.sort_by_key(|v| v.message.seq);
                    views
                });
            if let Some(part) = self.part_of(user, &key, visible, true)? {
                parts.push(part);
            }
        }
        Ok(parts)
    }

    /// This node's share of a search: the visible matches of each candidate conversation
    /// (unpaged), skipping, in cluster mode, the conversations other nodes own.
    async fn search_here(&self, user: &UserId, query: &SearchQuery) -> ConvResult<Vec<ConvPart>> {
        let shared = self.shared();
        let (store, u, q) = (shared.store.clone(), user.clone(), query.clone());
        let candidates =
            shared.slow_reads.run(move || store.search_candidates(&u, &q)).await?.map_err(crate::engine::store_err)?;
        let mut parts = Vec::with_capacity(candidates.len());
        for (key, (shared_seqs, local)) in candidates {
            let u = user.clone();
            let visible =
                self.call(&key, |reply| ConvOp::FilterVisible { user: u, shared: shared_seqs, local, reply }).await;
            if let Some(part) = self.part_of(user, &key, visible, query.conv.is_none())? {
                parts.push(part);
            }
        }
        Ok(parts)
    }

    /// This node's share of a find by ID.
    async fn find_here(&self, user: &UserId, ids: &[String]) -> ConvResult<Vec<ConvPart>> {
        let store = &self.shared().store;
        let mut by_conv: BTreeMap<ConvKey, Vec<MessageTarget>> = BTreeMap::new();
        for id in ids {
            if let Some(key) = store.locate_message(user, id).map_err(crate::engine::store_err)? {
                by_conv.entry(key).or_default().push(MessageTarget::Id(id.as_str().into()));
            }
        }
        let mut parts = Vec::with_capacity(by_conv.len());
        for (key, targets) in by_conv {
            let u = user.clone();
            let found = self.call(&key, |reply| ConvOp::GetMessages { user: u, targets, reply }).await;
            if let Some(part) = self.part_of(user, &key, found, true)? {
                parts.push(part);
            }
        }
        Ok(parts)
    }

    /// One conversation's part of a read: what it answered, at the log position the store
    /// holds — or nothing if another node owns it and `skip_foreign` (that node answers).
    fn part_of(
        &self,
        user: &UserId,
        key: &ConvKey,
        answer: ConvResult<Vec<MessageView>>,
        skip_foreign: bool,
    ) -> ConvResult<Option<ConvPart>> {
        match answer {
            Ok(views) => {
                let position = self.shared().store.log_position(&key.storage_key()).unwrap_or(0);
                Ok(Some(ConvPart { conv: key.as_seen_by(user), position, views }))
            }
            Err(e) if skip_foreign && self.cluster().is_some() && owned_elsewhere(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `here` merged with the other nodes' parts of `read` (cluster mode), within the call
    /// deadline; on a single node, `here`.
    async fn with_other_nodes(
        &self,
        user: &UserId,
        read: WholeUserRead,
        here: Vec<ConvPart>,
    ) -> ConvResult<Vec<ConvPart>> {
        let Some(node) = self.cluster().cloned() else { return Ok(here) };
        let request = GatherRequest { user: user.to_string(), read };
        let deadline = self.config().call_deadline;
        let asking = node.cluster.clone();
        let own = node.node.clone();
        let others = node
            .spawn(async move { gather::ask_others(&asking, &asking.members, &own, &request, deadline).await })
            .await
            .map_err(|e| ConvError::Internal(e.to_string()))?
            .map_err(ConvError::Incomplete)?;
        metrics::counter!("timsg_cluster_whole_user_reads_total").increment(1);
        Ok(gather::merge(here.into_iter().chain(others).collect()))
    }

    /// Answers another node's whole-user read with this node's share.
    async fn answer_gather(&self, request: GatherRequest) -> Result<Vec<ConvPart>, String> {
        let user: UserId = request.user.as_str().into();
        let parts = match request.read {
            WholeUserRead::Search(query) => self.search_here(&user, &query).await,
            WholeUserRead::Find(ids) => self.find_here(&user, &ids).await,
            WholeUserRead::Unread => self.unread_here(&user).await,
        };
        parts.map_err(|e| e.to_string())
    }

    /// Starts answering other nodes' whole-user reads (cluster mode), for as long as the
    /// engine lives.
    pub(crate) fn serve_whole_user_reads(&self) {
        let Some(node) = self.cluster().cloned() else { return };
        let engine = self.downgrade();
        let (cluster, name) = (node.cluster.clone(), node.node.clone());
        node.spawn(async move {
            gather::serve(&cluster, &name, move |request| {
                let engine = engine.clone();
                Box::pin(async move {
                    match engine.upgrade() {
                        Some(engine) => engine.answer_gather(request).await,
                        None => Err("the node is stopping".to_string()),
                    }
                })
            })
            .await
        });
    }
}
