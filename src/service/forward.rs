//! The service's side of cluster forwarding (see [`crate::cluster::forwarding`]): its calls
//! for conversations another node owns are answered there, and the calls other nodes forward
//! to it are run as their users through the same dispatcher as its own, under the remote
//! caller's rules (a forwarded call came over the network).

use serde_json::Value;

use super::ServiceState;
use super::api::begin_call;
use crate::cluster::forwarding::{Forwarded, ForwardedAnswer, ForwardedRequest};
use crate::dispatch::{CallBody, DispatchResult};

pub use crate::cluster::forwarding::owned_elsewhere;

/// `r`, the outcome of `api` called here as `user`, or the outcome of the call run on the node
/// that owns its conversation.
pub async fn served_by_owner(
    state: &ServiceState,
    user: &str,
    api: &str,
    body: &CallBody,
    r: DispatchResult,
) -> DispatchResult {
    let Some(forwarding) = state.forwarding.as_ref() else { return r };
    crate::cluster::forwarding::served_by_owner(forwarding, user, api, body, r, |body| async move {
        run_here(state, user, api, &body).await
    })
    .await
}

/// Serves the calls other nodes forward to this one, each as its user through the dispatcher.
pub async fn serve_forwarded(state: actix_web::web::Data<ServiceState>) {
    let Some(forwarding) = state.forwarding.as_ref() else { return };
    let mut requests = match forwarding.requests().await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot take forwarded calls");
            return;
        }
    };
    while let Some(request) = requests.next().await {
        let state = state.clone();
        actix_web::rt::spawn(async move {
            let answer = run_forwarded(&state, &request).await;
            request.answer(answer).await;
        });
    }
}

async fn run_forwarded(state: &ServiceState, request: &ForwardedRequest) -> ForwardedAnswer {
    match &request.call {
        Ok(Forwarded::Call { user, api, body }) => run_here(state, user, api, body).await.into(),
        Ok(Forwarded::Rest { service, command, body }) => {
            match super::rest_v4::run_command(state, service, command, body).await {
                Ok(keys) => {
                    ForwardedAnswer { code: 0, desc: String::new(), json_params: Value::Object(keys).to_string() }
                }
                Err(e) => ForwardedAnswer { code: e.code, desc: e.info, json_params: String::new() },
            }
        }
        Err(why) => ForwardedRequest::unreadable(why),
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
