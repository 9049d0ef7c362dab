//! `GET /v1/events?cursor=N`: the user's events over WebSocket, as text frames
//! `{"cursor", "event", "json"}` carrying the same JSON the C listeners receive. With the cursor
//! of the last event it saw, a reconnecting client first gets every event after it, then the
//! live feed. Text frames from the client are calls (see `ws_calls`); binary frames are refused
//! with a close frame; a client that cannot keep up is closed with "slow consumer".

use std::sync::Arc;
use std::sync::atomic::Ordering;

use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{CloseCode, CloseReason, Message};

use tokio::sync::Semaphore;

use super::ServiceState;
use super::api::refuse;
use super::auth::{authenticate_issued, query_param};
use super::ws_calls::{MAX_IN_FLIGHT, start};
use crate::error::TimError;

fn reason(code: CloseCode, text: &str) -> Option<CloseReason> {
    Some(CloseReason { code, description: Some(text.to_string()) })
}

pub async fn events(req: HttpRequest, stream: web::Payload, state: web::Data<ServiceState>) -> HttpResponse {
    let (user, issued) = match authenticate_issued(&state, &req) {
        Ok(u) => u,
        Err(r) => return refuse(r.status, &r.error),
    };
    let cursor =
        query_param(&req, "cursor").map(|c| c.parse::<u64>().map_err(|_| TimError::param("cursor must be a number")));
    let cursor = match cursor.transpose() {
        Ok(c) => c,
        Err(e) => return refuse(actix_web::http::StatusCode::BAD_REQUEST, &e),
    };
    // Held while the socket is open: the user's session does not end for idleness meanwhile.
    let activity = match state.session(&user) {
        Ok(a) => a,
        Err(e) => return refuse(actix_web::http::StatusCode::BAD_REQUEST, &e),
    };
    let (tim_session, hub) = (activity.session().clone(), activity.hub().clone());
    let (response, mut session, frames) = match actix_ws::handle(&req, stream) {
        Ok(x) => x,
        Err(e) => return HttpResponse::from_error(e),
    };
    // A call frame may be as large as a call's HTTP body.
    let mut frames = frames.max_frame_size(state.config.max_body);
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let state = state.clone();
    let mut sub = match state.runtime.engine().cluster() {
        Some(_) => {
            match crate::cluster::event_feed::subscribe(state.runtime.engine(), &user, cursor, state.config.ws_buffer)
                .await
            {
                Ok(feed) => super::hub::Subscription::from_feed(feed),
                Err(e) => return refuse(actix_web::http::StatusCode::SERVICE_UNAVAILABLE, &e),
            }
        }
        None => hub.subscribe(cursor),
    };
    let mut shutting_down = state.shutting_down.subscribe();
    let mut kicks = state.kicks.subscribe();
    metrics::gauge!("timsg_ws_connections").increment(1.0);
    actix_web::rt::spawn(async move {
        let close = 'outer: {
            if !sub.complete {
                let _ = session.text(crate::cluster::event_feed::GAP_FRAME).await;
            }
            for (_, text) in std::mem::take(&mut sub.replay) {
                if session.text(&*text).await.is_err() {
                    break 'outer None;
                }
            }
            loop {
                tokio::select! {
                    event = sub.live.recv() => match event {
                        Some((_, text)) => {
                            if session.text(&*text).await.is_err() {
                                break None;
                            }
                        }
                        None if sub.slow.load(Ordering::SeqCst) => {
                            break reason(CloseCode::Policy, "slow consumer: the event buffer filled; reconnect with your last cursor");
                        }
                        None => break reason(CloseCode::Away, "the event stream ended"),
                    },
                    frame = frames.recv() => match frame {
                        Some(Ok(Message::Ping(b))) => {
                            if session.pong(&b).await.is_err() {
                                break None;
                            }
                        }
                        Some(Ok(Message::Pong(_))) => {}
                        Some(Ok(Message::Text(text))) => {
                            // Started here, in arrival order; answered when done.
                            let Ok(permit) = in_flight.clone().acquire_owned().await else { break None };
                            let pending = start(&state, &tim_session, hub.clone(), &text);
                            let mut replies = session.clone();
                            actix_web::rt::spawn(async move {
                                let _ = replies.text(pending.await).await;
                                drop(permit);
                            });
                        }
                        Some(Ok(Message::Close(_))) | None => break None,
                        Some(Ok(_)) => break reason(CloseCode::Unsupported, "this stream takes text frames (calls) only"),
                        Some(Err(_)) => break reason(CloseCode::Protocol, "protocol error"),
                    },
                    changed = kicks.changed() => {
                        if changed.is_err() {
                            break reason(CloseCode::Restart, "the service is shutting down");
                        }
                        if super::auth::check_not_revoked(&state, &user, issued).is_err() {
                            break reason(CloseCode::Policy, "kicked: the account's UserSigs were revoked; log in with a new one");
                        }
                    }
                    changed = shutting_down.changed() => {
                        if changed.is_err() || *shutting_down.borrow() {
                            break reason(CloseCode::Restart, "the service is shutting down");
                        }
                    }
                }
            }
        };
        hub.unsubscribe(sub.id);
        drop(activity);
        metrics::gauge!("timsg_ws_connections").decrement(1.0);
        let _ = session.close(close).await;
    });
    response
}
