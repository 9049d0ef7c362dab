//! The one SDK instance of the process, as in the TIM SDK: made by `TIMInit`, ended by
//! `TIMUninit`, with at most one logged-in user at a time.

use std::ffi::c_void;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};

use super::callbacks::{CallbackThread, CommCallback, OwedCallback, Poster, UserData};
use crate::dispatch::{self, ApiCall};
use crate::error::code;
use crate::runtime::Runtime;
use crate::session::Session;

pub struct LoginState {
    pub session: Arc<Session>,
    /// Hands `TIMLogout`'s callback to the event pump, which pays it once it has delivered
    /// every event published before the logout.
    pub logout_done: tokio::sync::oneshot::Sender<OwedCallback>,
}

pub struct Sdk {
    pub sdk_app_id: u64,
    pub secret_key: Option<String>,
    pub runtime: Runtime,
    /// Drives call completions and the event pump.
    pub driver: tokio::runtime::Runtime,
    pub callbacks: CallbackThread,
    pub login: Mutex<Option<LoginState>>,
    /// Raised by `TIMUninit` before it logs out: a call racing it is refused with
    /// `TIM_ERR_SDKUNINIT`, never accepted after the wait for owed callbacks began.
    pub closing: AtomicBool,
    /// How long `TIMUninit` waits for owed callbacks before answering the rest with 7009.
    pub uninit_wait: Duration,
    /// Cluster mode: where calls for conversations other nodes own are answered.
    pub forwarding: Option<Arc<crate::cluster::forwarding::Forwarding>>,
}

impl Sdk {
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }
}

static SDK: RwLock<Option<Arc<Sdk>>> = RwLock::new(None);

/// An instance `TIMUninit` is still closing on a thread of its own (it was called from a
/// callback, so it could not wait where it was called).
static RETIRING: Mutex<Option<JoinHandle<()>>> = Mutex::new(None);

pub fn set_retiring(handle: JoinHandle<()>) {
    if let Some(previous) = RETIRING.lock().replace(handle) {
        let _ = previous.join();
    }
}

/// The instance still closing, if any: `TIMInit` waits for it before it opens the data
/// directory again.
pub fn take_retiring() -> Option<JoinHandle<()>> {
    RETIRING.lock().take()
}

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
    let session = sdk.login.lock().as_ref().map(|l| l.session.clone());
    let Some(session) = session else {
        return Err(if sdk.is_closing() { code::TIM_ERR_SDKUNINIT } else { code::TIM_ERR_NOTLOGIN });
    };
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

/// As [`guarded`], for a call that needs a logged-in user: as in the SDK, `TIM_ERR_SDKUNINIT`
/// before `TIMInit` and `TIM_ERR_NOTLOGIN` before `TIMLogin` come before any argument check.
pub fn guarded_call(body: impl FnOnce() -> Result<(), i32>) -> i32 {
    guarded(|| {
        logged_in()?;
        body()
    })
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
    // Owed before the call starts and refused if `TIMUninit` has begun: either uninit sees
    // this call and waits for it, or the call sees uninit and never starts.
    let owed = poster.begin_call(cb, UserData(user_data));
    if sdk.is_closing() {
        owed.withdraw();
        return Err(code::TIM_ERR_SDKUNINIT);
    }
    let started = match dispatch::begin(&session, call) {
        Ok(a) => a,
        Err(e) if e.is_synchronous() => {
            owed.withdraw();
            return Err(e.code);
        }
        // A refusal that carries a callback code answers through the callback.
        Err(e) => {
            owed.pay(e.code, e.desc, String::new());
            accepted(None);
            return Ok(());
        }
    };
    accepted(started.message_id.as_deref());
    // Cluster mode: kept to be served by the owner if another node owns the conversation.
    let forwardable = sdk.forwarding.as_ref().map(|f| {
        (f.clone(), super::cluster::ForwardableCall::of(call, started.message_id.as_deref()), session.clone())
    });
    sdk.driver.spawn(async move {
        let dispatch::Accepted { progress, completion, .. } = started;
        if let Some(mut progress) = progress {
            while let Some((current, total)) = progress.recv().await {
                let json = crate::wire::params::MsgDownloadElemResult::progress(current, total);
                owed.progress(code::ERR_SUCC, String::new(), json.to_string());
            }
        }
        let mut r = completion.await;
        if let Some((forwarding, call, session)) = forwardable
            && crate::cluster::forwarding::owned_elsewhere(&r)
        {
            r = call.served_by_owner(&forwarding, &session, r).await;
        }
        owed.pay(r.code, r.desc, r.json_params);
    });
    Ok(())
}
