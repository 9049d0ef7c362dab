//! The one SDK instance of the process, as in the TIM SDK: made by `TIMInit`, ended by
//! `TIMUninit`, with at most one logged-in user at a time.

use std::ffi::c_void;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use super::callbacks::{CallbackThread, CommCallback, Poster, UserData};
use crate::dispatch::{self, ApiCall};
use crate::error::code;
use crate::runtime::Runtime;
use crate::session::Session;

pub struct LoginState {
    pub session: Arc<Session>,
    pub pump: tokio::task::JoinHandle<()>,
}

pub struct Sdk {
    pub sdk_app_id: u64,
    pub secret_key: Option<String>,
    pub runtime: Runtime,
    /// Drives call completions and the event pump.
    pub driver: tokio::runtime::Runtime,
    pub callbacks: CallbackThread,
    pub login: Mutex<Option<LoginState>>,
}

static SDK: RwLock<Option<Arc<Sdk>>> = RwLock::new(None);

pub fn install(sdk: Sdk) -> bool {
    let mut slot = SDK.write();
    if slot.is_some() {
        return false;
    }
    *slot = Some(Arc::new(sdk));
    true
}

pub fn take() -> Option<Arc<Sdk>> {
    SDK.write().take()
}

/// The SDK, or `TIM_ERR_SDKUNINIT`.
pub fn sdk() -> Result<Arc<Sdk>, i32> {
    SDK.read().clone().ok_or(code::TIM_ERR_SDKUNINIT)
}

/// The SDK and the logged-in user's session, or `TIM_ERR_SDKUNINIT` / `TIM_ERR_NOTLOGIN`.
pub fn logged_in() -> Result<(Arc<Sdk>, Arc<Session>, Poster), i32> {
    let sdk = sdk()?;
    let session = sdk.login.lock().as_ref().map(|l| l.session.clone()).ok_or(code::TIM_ERR_NOTLOGIN)?;
    let poster = sdk.callbacks.poster().ok_or(code::TIM_ERR_SDKUNINIT)?;
    Ok((sdk, session, poster))
}

/// Runs a panicking-safe body and turns its outcome into a `TIMResult`.
pub fn guarded(body: impl FnOnce() -> Result<(), i32>) -> i32 {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(Ok(())) => code::TIM_SUCC,
        Ok(Err(c)) => c,
        Err(_) => {
            tracing::error!("panic inside a C API call");
            code::TIM_ERR_PARAM
        }
    }
}

/// Begins a dispatcher call for the logged-in user; `accepted(message_id)` runs before any
/// callback can fire (to fill the message ID buffer). Progress reports and the final result go
/// to `cb` on the callback thread.
pub fn call_api(
    call: &ApiCall<'_>,
    cb: CommCallback,
    user_data: *const c_void,
    accepted: impl FnOnce(Option<&str>),
) -> Result<(), i32> {
    let (sdk, session, poster) = logged_in()?;
    let ud = UserData(user_data);
    let started = match dispatch::begin(&session, call) {
        Ok(a) => a,
        Err(e) if e.is_synchronous() => return Err(e.code),
        // A refusal that carries a callback code answers through the callback.
        Err(e) => {
            let done = poster.begin_call();
            poster.comm(cb, e.code, e.desc, String::new(), ud, Some(done));
            accepted(None);
            return Ok(());
        }
    };
    accepted(started.message_id.as_deref());
    let done = poster.begin_call();
    sdk.driver.spawn(async move {
        let dispatch::Accepted { progress, completion, .. } = started;
        if let Some(mut progress) = progress {
            while let Some((current, total)) = progress.recv().await {
                let json = crate::wire::params::MsgDownloadElemResult::progress(current, total);
                poster.comm(cb, code::ERR_SUCC, String::new(), json.to_string(), ud, None);
            }
        }
        let r = completion.await;
        poster.comm(cb, r.code, r.desc, r.json_params, ud, Some(done));
    });
    Ok(())
}
