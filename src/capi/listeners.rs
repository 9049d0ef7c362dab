//! The listeners: `TIMAddRecvNewMsgCallback`, `TIMRemoveRecvNewMsgCallback`,
//! `TIMSetMsgReadedReceiptCallback`, `TIMSetMsgRevokeCallback`,
//! `TIMSetMsgElemUploadProgressCallback`, `TIMSetMsgUpdateCallback`; and the pump that turns
//! the logged-in user's events into listener calls on the callback thread.
//!
//! Listeners may be registered before `TIMInit` (the SDK asks for registration before login,
//! so the messages delivered right after login are heard).

use std::ffi::{c_char, c_void};

use parking_lot::Mutex;
use timsg_actors::events::Event;

use super::callbacks::{Poster, UserData};
use super::cstr::to_c;
use crate::catch_up::CatchUpStream;
use crate::events::{Listener, to_listener_json};
use crate::wire::view_json::ViewJson;

/// `TIMRecvNewMsgCallback`, `TIMMsgReadedReceiptCallback`, `TIMMsgRevokeCallback`,
/// `TIMMsgUpdateCallback`: one JSON array and the user data.
pub type JsonCallback = Option<unsafe extern "C" fn(json: *const c_char, user_data: *const c_void)>;
/// `TIMMsgElemUploadProgressCallback`.
pub type UploadProgressCallback = Option<
    unsafe extern "C" fn(json_msg: *const c_char, index: u32, cur_size: u32, total_size: u32, user_data: *const c_void),
>;

struct Registered {
    new_msg: Vec<(unsafe extern "C" fn(*const c_char, *const c_void), UserData)>,
    receipt: Option<(JsonCallback, UserData)>,
    revoke: Option<(JsonCallback, UserData)>,
    update: Option<(JsonCallback, UserData)>,
    upload: Option<(UploadProgressCallback, UserData)>,
}

static LISTENERS: Mutex<Registered> =
    Mutex::new(Registered { new_msg: Vec::new(), receipt: None, revoke: None, update: None, upload: None });

#[unsafe(no_mangle)]
pub extern "C" fn TIMAddRecvNewMsgCallback(cb: JsonCallback, user_data: *const c_void) {
    let _ = std::panic::catch_unwind(|| {
        if let Some(f) = cb {
            let mut l = LISTENERS.lock();
            l.new_msg.retain(|(g, _)| !std::ptr::fn_addr_eq(*g, f));
            l.new_msg.push((f, UserData(user_data)));
        }
    });
}

#[unsafe(no_mangle)]
pub extern "C" fn TIMRemoveRecvNewMsgCallback(cb: JsonCallback) {
    let _ = std::panic::catch_unwind(|| {
        if let Some(f) = cb {
            LISTENERS.lock().new_msg.retain(|(g, _)| !std::ptr::fn_addr_eq(*g, f));
        }
    });
}

#[unsafe(no_mangle)]
pub extern "C" fn TIMSetMsgReadedReceiptCallback(cb: JsonCallback, user_data: *const c_void) {
    let _ = std::panic::catch_unwind(|| LISTENERS.lock().receipt = cb.map(|f| (Some(f), UserData(user_data))));
}

#[unsafe(no_mangle)]
pub extern "C" fn TIMSetMsgRevokeCallback(cb: JsonCallback, user_data: *const c_void) {
    let _ = std::panic::catch_unwind(|| LISTENERS.lock().revoke = cb.map(|f| (Some(f), UserData(user_data))));
}

#[unsafe(no_mangle)]
pub extern "C" fn TIMSetMsgUpdateCallback(cb: JsonCallback, user_data: *const c_void) {
    let _ = std::panic::catch_unwind(|| LISTENERS.lock().update = cb.map(|f| (Some(f), UserData(user_data))));
}

#[unsafe(no_mangle)]
pub extern "C" fn TIMSetMsgElemUploadProgressCallback(cb: UploadProgressCallback, user_data: *const c_void) {
    let _ = std::panic::catch_unwind(|| LISTENERS.lock().upload = cb.map(|f| (Some(f), UserData(user_data))));
}

fn call_json(cb: Option<(JsonCallback, UserData)>, json: &str) {
    if let Some((Some(f), ud)) = cb {
        let j = to_c(json);
        // SAFETY: a function pointer the app registered for this signature.
        unsafe { f(j.as_ptr(), ud.0) };
    }
}

/// Calls the listeners an event is for. Runs on the callback thread.
fn deliver(event: &Event) {
    // Upload progress reaches its callback as the message and three numbers, not one JSON text.
    if let Event::UploadProgress { message, index, current, total } = event {
        let message = ViewJson(message).to_json_string();
        upload_progress(&message, *index, *current, *total);
        return;
    }
    let (listener, json) = to_listener_json(event);
    call_listener(listener, &json);
}

/// Calls the listeners of an event that came as a stream's frame, `{"cursor", "event",
/// "json"}` (cluster mode). Runs on the callback thread.
pub fn deliver_frame(frame: &str) {
    let Ok(frame) = serde_json::from_str::<serde_json::Value>(frame) else { return };
    let Some(listener) = frame["event"].as_str().and_then(Listener::from_name) else { return };
    let body = &frame["json"];
    if listener == Listener::MsgElemUploadProgress {
        let number = |key: &str| body[key].as_u64().unwrap_or(0);
        upload_progress(&body["message"].to_string(), number("index") as u32, number("current"), number("total"));
        return;
    }
    call_listener(listener, &body.to_string());
}

/// `TIMMsgElemUploadProgressCallback`, if one is set.
fn upload_progress(message: &str, index: u32, current: u64, total: u64) {
    // The registry's lock is let go before the app's function runs: a listener may set or
    // remove listeners (the lock is not reentrant).
    let upload = LISTENERS.lock().upload;
    if let Some((Some(f), ud)) = upload {
        let msg = to_c(message);
        let num = |n: u64| n.min(u64::from(u32::MAX)) as u32;
        // SAFETY: a function pointer the app registered for this signature.
        unsafe { f(msg.as_ptr(), index, num(current), num(total), ud.0) };
    }
}

/// Calls the listeners of `listener` with `json`.
fn call_listener(listener: Listener, json: &str) {
    match listener {
        Listener::RecvNewMsg => {
            let targets = LISTENERS.lock().new_msg.clone();
            let j = to_c(json);
            for (f, ud) in targets {
                // SAFETY: a function pointer the app registered for this signature.
                unsafe { f(j.as_ptr(), ud.0) };
            }
        }
        // Each pointer is copied out first: a temporary guard in the argument would hold the
        // lock while the app's function runs.
        Listener::MsgReadedReceipt => {
            let cb = LISTENERS.lock().receipt;
            call_json(cb, json);
        }
        Listener::MsgRevoke => {
            let cb = LISTENERS.lock().revoke;
            call_json(cb, json);
        }
        Listener::MsgUpdate => {
            let cb = LISTENERS.lock().update;
            call_json(cb, json);
        }
        // Its own signature: see `upload_progress`.
        Listener::MsgElemUploadProgress => {}
    }
}

/// Forwards the logged-in user's events to the listeners, in order, on the callback thread.
pub async fn pump(mut events: CatchUpStream, poster: Poster) {
    while let Some(event) = events.recv().await {
        poster.post(move || deliver(&event));
    }
}
