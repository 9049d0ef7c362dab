//! A C ABI embedder as a node of a cluster (`timsg_config_cluster` in `TIMInit`'s JSON, the
//! keys of `timsg serve`'s `[cluster]`): its conversations are leased and logged in JetStream
//! like any node's, so
//! - a call of the logged-in user for a conversation another node owns is answered there
//!   ([`served_by_owner`]): the callback gets the owner's answer, and a sent message keeps the
//!   ID already written to the caller's buffer;
//! - calls other nodes forward to this one are run here as their users, under the remote
//!   caller's rules — they came over the network, so they name no path on this machine
//!   ([`serve_forwarded`]);
//! - the logged-in user's events come from the cluster's events stream, whichever node made
//!   them ([`pump_feed`]).

use std::sync::Arc;

use serde_json::Value;

use super::callbacks::{OwedCallback, Poster};
use crate::access::{Access, LimitBook, RemotePolicy, UserLimits};
use crate::cluster::event_feed::EventFeed;
use crate::cluster::forwarding::{Forwarded, ForwardedAnswer, ForwardedRequest, Forwarding};
use crate::dispatch::{self, ApiCall, CallBody, DispatchResult};
use crate::error::code;
use crate::runtime::Runtime;
use crate::session::Session;

/// Events a logged-in user's feed holds while the callback thread is busy. A feed that fills
/// stops (logged as an error); the next login catches up on what is unread.
pub const FEED_BUFFER: usize = 1 << 16;

/// This node's forwarding, if the runtime is in cluster mode; serving the calls forwarded to
/// it starts on `driver`.
pub fn start(runtime: &Runtime, driver: &tokio::runtime::Runtime) -> Option<Arc<Forwarding>> {
    let engine = runtime.engine();
    let forwarding = Arc::new(Forwarding::new(engine.cluster()?, engine.config().call_deadline));
    let policy = Arc::new(RemotePolicy {
        files_root: engine.config().data_dir.join("files"),
        fetch_allow: Vec::new(),
        limits: LimitBook::new(UserLimits::default()),
    });
    driver.spawn(serve_forwarded(forwarding.clone(), runtime.clone(), policy));
    Some(forwarding)
}

/// Runs the calls other nodes forward here, each as its user, until the instance closes.
async fn serve_forwarded(forwarding: Arc<Forwarding>, runtime: Runtime, policy: Arc<RemotePolicy>) {
    let mut requests = match forwarding.requests().await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot take forwarded calls");
            return;
        }
    };
    while let Some(request) = requests.next().await {
        let (runtime, policy) = (runtime.clone(), policy.clone());
        tokio::spawn(async move {
            let answer = match &request.call {
                Ok(Forwarded::Call { user, api, body }) => match runtime.acting_for(user, Access::Remote(policy)) {
                    Ok(session) => run(&Arc::new(session), api, body).await.into(),
                    Err(e) => ForwardedAnswer { code: e.code, desc: e.desc, json_params: String::new() },
                },
                Ok(Forwarded::Rest { service, command, .. }) => ForwardedAnswer {
                    code: code::ERR_INVALID_PARAMETERS,
                    desc: format!("{service}/{command}: this node (a C ABI embedder) serves no REST API"),
                    json_params: String::new(),
                },
                Err(why) => ForwardedRequest::unreadable(why),
            };
            request.answer(answer).await;
        });
    }
}

/// Runs `api` with `body` as `session`'s user on this node.
async fn run(session: &Arc<Session>, api: &str, body: &CallBody) -> DispatchResult {
    let json = dispatch::argument_text(&body.param);
    let call = body.as_call(api, &json);
    match dispatch::begin(session, &call) {
        Ok(accepted) => accepted.completion.await,
        Err(e) => DispatchResult { code: e.code, desc: e.desc, json_params: String::new() },
    }
}

/// A call of the logged-in user, ready to be served by its conversation's owner.
pub struct ForwardableCall {
    api: String,
    body: CallBody,
}

impl ForwardableCall {
    /// `call`, begun here; a message it sends keeps `message_id`, the ID its caller was given.
    pub fn of(call: &ApiCall<'_>, message_id: Option<&str>) -> ForwardableCall {
        let mut body = CallBody::of(call);
        if let Some(id) = message_id
            && let Ok(Value::Object(mut message)) = serde_json::from_str::<Value>(call.json)
        {
            message.insert("message_msg_id".into(), id.into());
            body.param = Value::Object(message);
        }
        ForwardableCall { api: call.api.to_string(), body }
    }

    /// `r`, the call's outcome here, or the owner's when another node owns its conversation.
    pub async fn served_by_owner(
        &self,
        forwarding: &Forwarding,
        session: &Arc<Session>,
        r: DispatchResult,
    ) -> DispatchResult {
        let user = session.user_id();
        crate::cluster::forwarding::served_by_owner(forwarding, user, &self.api, &self.body, r, |body| async move {
            run(session, &self.api, &body).await
        })
        .await
    }
}

/// Feeds the logged-in user's events from the cluster's events stream to the listeners, in
/// order, until the logout: what the feed holds then is still delivered, then the logout's
/// callback is paid.
pub async fn pump_feed(
    mut feed: EventFeed,
    poster: Poster,
    mut logged_out: tokio::sync::oneshot::Receiver<OwedCallback>,
) {
    let post = |text: crate::events::EventText| poster.post(move || super::listeners::deliver_frame(&text));
    for (_, text) in feed.replay.drain(..) {
        post(text);
    }
    loop {
        tokio::select! {
            event = feed.live.recv() => match event {
                Some((_, text)) => {
                    post(text);
                }
                None => {
                    if feed.slow.load(std::sync::atomic::Ordering::SeqCst) {
                        tracing::error!(buffer = FEED_BUFFER, "the listeners fell behind the events stream; the feed stopped until the next login");
                    }
                    break;
                }
            },
            done = &mut logged_out => {
                while let Ok((_, text)) = feed.live.try_recv() {
                    post(text);
                }
                if let Ok(done) = done {
                    done.pay(code::ERR_SUCC, String::new(), String::new());
                }
                return;
            }
        }
    }
    if let Ok(done) = logged_out.await {
        done.pay(code::ERR_SUCC, String::new(), String::new());
    }
}
