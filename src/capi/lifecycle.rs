//! `TIMInit`, `TIMUninit`, `TIMLogin`, `TIMLogout`, `TIMGetLoginUserID`, `TIMGetLoginStatus`,
//! `TIMGetSDKVersion`, `TIMGetServerTime`.
//!
//! `TIMInit`'s JSON config takes the SDK's `sdk_config_config_file_path` (the data directory)
//! and keys of ours (see [`config_from`]). With a secret key, `TIMLogin` verifies UserSig v2;
//! without one it accepts any UserSig and logs a warning.
//!
//! `TIMUninit` waits for every accepted call's final callback, at most
//! `timsg_config_uninit_wait_ms` (30 s by default); what is still unanswered then gets
//! `ERR_SDK_COMM_INTERRUPT` (7009), so every accepted call has its callback exactly once.
//! Called from a callback it cannot wait where it is (the callbacks it waits for run on that
//! thread): it returns at once and the instance closes on a thread of its own after the
//! callback returns; the next `TIMInit` waits for that.

use std::ffi::{c_char, c_int, c_void};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::callbacks::{self, CallbackThread, CommCallback, UserData};
use super::cstr;
use super::listeners;
use super::state::{self, LoginState, Sdk, guarded};
use crate::auth::usersig;
use crate::error::code;
use crate::runtime::{Runtime, RuntimeConfig};

/// `kTIMLoginStatus_Logined`.
pub const LOGIN_STATUS_LOGINED: c_int = 1;
/// `kTIMLoginStatus_UnLogined`.
pub const LOGIN_STATUS_UNLOGINED: c_int = 3;

/// The callback code when another user is logged in (`ERR_SDK_INVALID_OPERATION`).
pub const ERR_SDK_INVALID_OPERATION: i32 = 7014;

/// How long `TIMUninit` waits for owed callbacks by default.
const DEFAULT_UNINIT_WAIT: Duration = Duration::from_secs(30);
/// After answering the rest with 7009, how long those callbacks get to run.
const UNINIT_GRACE: Duration = Duration::from_secs(5);

/// `TIMInit`'s settings: the runtime's, the secret key, the uninit wait.
struct InitConfig {
    runtime: RuntimeConfig,
    secret_key: Option<String>,
    uninit_wait: Duration,
}

/// Reads `TIMInit`'s JSON: `sdk_config_config_file_path` (the data directory), and ours:
/// `timsg_config_secret_key` (also the `TIMSG_SECRET_KEY` environment variable),
/// `timsg_config_durability` (`fsync`, `os`, `memory`), `timsg_config_uninit_wait_ms`, and
/// the engine's limits (the defaults and meaning in docs/c-abi.md): `_idle_passivation_ms`,
/// `_activation_window`, `_batch_send_max`, `_call_deadline_ms`, `_max_body_bytes`,
/// `_conversation_mailbox`, `_group_rate_limit`, each after `timsg_config`; and
/// `timsg_config_cluster`, an object with the keys of `timsg serve`'s `[cluster]` (`nats_url`
/// and `node` at least), to run as a node of a cluster (see [`super::cluster`]).
fn config_from(json: Option<&str>) -> Result<InitConfig, i32> {
    let v: Value = match json.map(str::trim).filter(|j| !j.is_empty()) {
        Some(j) => crate::wire::lenient::from_str(j).map_err(|_| code::TIM_ERR_JSON)?,
        None => Value::Object(Default::default()),
    };
    let mut config = RuntimeConfig::default();
    if let Some(dir) = v.get("sdk_config_config_file_path").and_then(Value::as_str).filter(|d| !d.is_empty()) {
        config.data_dir = dir.into();
    }
    if let Some(d) = v.get("timsg_config_durability").and_then(Value::as_str) {
        config.durability = d.parse().map_err(|_| code::TIM_ERR_PARAM)?;
    }
    let secret = v
        .get("timsg_config_secret_key")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| std::env::var("TIMSG_SECRET_KEY").ok())
        .filter(|k| !k.is_empty());
    // The engine's limits, each a positive whole number (-4 otherwise).
    let number = |key: &str| -> Result<Option<u64>, i32> {
        v.get(key).map(|n| n.as_u64().filter(|n| *n >= 1).ok_or(code::TIM_ERR_PARAM)).transpose()
    };
    if let Some(ms) = number("timsg_config_idle_passivation_ms")? {
        config.idle_passivation = Duration::from_millis(ms);
    }
    if let Some(n) = number("timsg_config_activation_window")? {
        config.activation_window = n as usize;
    }
    if let Some(n) = number("timsg_config_batch_send_max")? {
        config.batch_send_max = n as usize;
    }
    if let Some(ms) = number("timsg_config_call_deadline_ms")? {
        config.call_deadline = Duration::from_millis(ms);
    }
    if let Some(n) = number("timsg_config_max_body_bytes")? {
        config.max_body_bytes = n as usize;
    }
    if let Some(n) = number("timsg_config_conversation_mailbox")? {
        config.conversation_mailbox = (n as usize).max(16);
    }
    // 0 is meaningful here: no group rate limit.
    if let Some(n) = v.get("timsg_config_group_rate_limit") {
        config.group_rate_limit = n.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or(code::TIM_ERR_PARAM)?;
    }
    if let Some(cluster) = v.get("timsg_config_cluster") {
        let settings: crate::service::config::ClusterSettings =
            serde_json::from_value(cluster.clone()).map_err(|_| code::TIM_ERR_PARAM)?;
        if settings.nats_url.is_empty() {
            return Err(code::TIM_ERR_PARAM);
        }
        config.cluster = Some(settings.to_config().map_err(|_| code::TIM_ERR_PARAM)?);
    }
    let uninit_wait = match v.get("timsg_config_uninit_wait_ms") {
        None => DEFAULT_UNINIT_WAIT,
        Some(ms) => Duration::from_millis(ms.as_u64().ok_or(code::TIM_ERR_PARAM)?),
    };
    Ok(InitConfig { runtime: config, secret_key: secret, uninit_wait })
}

/// # Safety
/// `json_sdk_config` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMInit(sdk_app_id: u64, json_sdk_config: *const c_char) -> c_int {
    guarded(|| {
        if state::sdk().is_ok() {
            return Ok(());
        }
        // SAFETY: the caller passes NULL or a C string.
        let json = unsafe { cstr::opt(json_sdk_config) }?;
        let InitConfig { runtime: config, secret_key, uninit_wait } = config_from(json)?;
        // The previous instance may still be closing (uninit from a callback); it holds the
        // data directory until it is done. From that instance's own callback thread it cannot
        // be waited for: the open below then fails if the directory is the same.
        if !callbacks::on_callback_thread()
            && let Some(previous) = state::take_retiring()
        {
            let _ = previous.join();
        }
        let runtime = Runtime::open(config).map_err(|e| {
            tracing::error!(error = %e, "TIMInit cannot open the runtime");
            code::TIM_ERR_PARAM
        })?;
        let driver = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("timsg-capi")
            .enable_all()
            .build()
            .map_err(|_| code::TIM_ERR_PARAM)?;
        let callbacks = CallbackThread::start().map_err(|_| code::TIM_ERR_PARAM)?;
        let forwarding = super::cluster::start(&runtime, &driver);
        let sdk = Sdk {
            sdk_app_id,
            secret_key,
            runtime,
            driver,
            callbacks,
            login: Default::default(),
            closing: AtomicBool::new(false),
            uninit_wait,
            forwarding,
        };
        if !state::install(sdk) {
            // Another thread initialized first; this instance goes away.
            return Ok(());
        }
        Ok(())
    })
}

#[unsafe(no_mangle)]
pub extern "C" fn TIMUninit() -> c_int {
    guarded(|| {
        let sdk = state::take().ok_or(code::TIM_ERR_SDKUNINIT)?;
        sdk.closing.store(true, Ordering::SeqCst);
        end_login(&sdk, None);
        if callbacks::on_callback_thread() {
            let closer = std::thread::Builder::new()
                .name("timsg-uninit".into())
                .spawn(move || retire(sdk))
                .map_err(|_| code::TIM_ERR_PARAM)?;
            state::set_retiring(closer);
        } else {
            retire(sdk);
        }
        Ok(())
    })
}

/// Settles every owed callback (answering what is left at the deadline with 7009), then stops
/// the driver, the callback thread and the runtime.
fn retire(sdk: Arc<Sdk>) {
    let start = Instant::now();
    let settled = sdk.callbacks.settle(start + sdk.uninit_wait, start + sdk.uninit_wait + UNINIT_GRACE);
    if settled.interrupted > 0 {
        tracing::warn!(
            calls = settled.interrupted,
            waited_ms = sdk.uninit_wait.as_millis() as u64,
            "TIMUninit: calls still unanswered were answered with ERR_SDK_COMM_INTERRUPT"
        );
    }
    if !settled.all_ran {
        tracing::warn!("TIMUninit: an app callback is still running; closing without it");
    }
    // A call on another thread may hold the instance for a moment (it is refused: closing).
    let mut sdk = sdk;
    let held_until = Instant::now() + Duration::from_secs(1);
    loop {
        match Arc::try_unwrap(sdk) {
            Ok(owned) => {
                owned.driver.shutdown_timeout(Duration::from_secs(5));
                owned.callbacks.stop(Instant::now() + UNINIT_GRACE);
                owned.runtime.shutdown();
                return;
            }
            Err(shared) if Instant::now() < held_until => {
                sdk = shared;
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(shared) => {
                shared.callbacks.stop(Instant::now() + UNINIT_GRACE);
                shared.runtime.shutdown();
                return;
            }
        }
    }
}

/// Logs the user out now, not when the last call in flight lets go of the session: what
/// those calls complete after this (a group created, its report) is for the next login. The
/// events published before it still reach the listeners; then `done` (`TIMLogout`'s
/// callback) is paid.
fn end_login(sdk: &Sdk, done: Option<callbacks::OwedCallback>) {
    let login = sdk.login.lock().take();
    let Some(login) = login else {
        if let Some(done) = done {
            done.pay(code::ERR_SUCC, String::new(), String::new());
        }
        return;
    };
    login.session.logout();
    if let Some(done) = done
        && let Err(done) = login.logout_done.send(done)
    {
        done.pay(code::ERR_SUCC, String::new(), String::new());
    }
}

/// # Safety
/// `user_id` and `user_sig` are NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMLogin(
    user_id: *const c_char,
    user_sig: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    guarded(|| {
        let sdk = state::sdk()?;
        // SAFETY: the caller passes NULL or C strings.
        let user = unsafe { cstr::req(user_id) }?.to_string();
        // SAFETY: as above.
        let sig = unsafe { cstr::opt(user_sig) }?.unwrap_or("").to_string();
        let poster = sdk.callbacks.poster().ok_or(code::TIM_ERR_SDKUNINIT)?;
        let owed = poster.begin_call(cb, UserData(user_data));
        if sdk.is_closing() {
            owed.withdraw();
            return Err(code::TIM_ERR_SDKUNINIT);
        }
        if let Some(key) = &sdk.secret_key {
            let now = sdk.runtime.engine().now_ms() / 1000;
            if let Err(e) = usersig::verify(&sig, sdk.sdk_app_id, key, &user, now) {
                owed.pay(e.code, e.desc, String::new());
                return Ok(());
            }
        } else {
            tracing::warn!(user = %user, "no secret key configured: the UserSig is not checked");
        }
        let mut login = sdk.login.lock();
        if let Some(current) = login.as_ref() {
            let (code, desc) = if current.session.user_id() == user {
                (code::ERR_SUCC, String::new())
            } else {
                (ERR_SDK_INVALID_OPERATION, format!("{} is logged in; call TIMLogout first", current.session.user_id()))
            };
            owed.pay(code, desc, String::new());
            return Ok(());
        }
        let session = match sdk.runtime.login(&user) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                owed.pay(e.code, e.desc, String::new());
                return Ok(());
            }
        };
        // What reached the user while logged out goes to the listeners first, then live
        // events until the logout closes the stream; then the logout's callback.
        let (s2, p2) = (session.clone(), poster.clone());
        let (logout_done, logged_out) = tokio::sync::oneshot::channel::<callbacks::OwedCallback>();
        // In cluster mode they come from the events stream, whichever node made them: first
        // what is unread on every node, then live. The login succeeds once the feed stands.
        if sdk.runtime.engine().cluster().is_some() {
            let engine = sdk.runtime.engine().clone();
            sdk.driver.spawn(async move {
                let feed = crate::cluster::event_feed::subscribe(&engine, &user, None, super::cluster::FEED_BUFFER);
                match feed.await {
                    Ok(feed) => {
                        drop(s2);
                        owed.pay(code::ERR_SUCC, String::new(), String::new());
                        super::cluster::pump_feed(feed, p2, logged_out).await;
                    }
                    Err(e) => {
                        // No login without its events: this one ends before anyone used it.
                        if let Ok(sdk) = state::sdk() {
                            let mut login = sdk.login.lock();
                            if login.as_ref().is_some_and(|l| Arc::ptr_eq(&l.session, &s2)) {
                                login.take();
                            }
                        }
                        s2.logout();
                        owed.pay(e.code, format!("the events stream cannot be read: {}", e.desc), String::new());
                    }
                }
            });
            *login = Some(LoginState { session, logout_done });
            return Ok(());
        }
        // Taken now: a logout from here on abandons the catch-up if it is still being read.
        let catch_up = s2.take_events_after_missed_owned();
        drop(s2);
        sdk.driver.spawn(async move {
            if let Some(events) = catch_up.await {
                listeners::pump(events, p2).await;
            }
            if let Ok(done) = logged_out.await {
                done.pay(code::ERR_SUCC, String::new(), String::new());
            }
        });
        *login = Some(LoginState { session, logout_done });
        drop(login);
        owed.pay(code::ERR_SUCC, String::new(), String::new());
        Ok(())
    })
}

#[unsafe(no_mangle)]
pub extern "C" fn TIMLogout(cb: CommCallback, user_data: *const c_void) -> c_int {
    guarded(|| {
        let sdk = state::sdk()?;
        let poster = sdk.callbacks.poster().ok_or(code::TIM_ERR_SDKUNINIT)?;
        end_login(&sdk, Some(poster.begin_call(cb, UserData(user_data))));
        Ok(())
    })
}

/// # Safety
/// `user_id_buffer` is NULL or points to at least 128 writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMGetLoginUserID(user_id_buffer: *mut c_char) -> c_int {
    guarded(|| {
        let sdk = state::sdk()?;
        if user_id_buffer.is_null() {
            return Err(code::TIM_ERR_PARAM);
        }
        let login = sdk.login.lock();
        let session = &login.as_ref().ok_or(code::TIM_ERR_NOTLOGIN)?.session;
        // SAFETY: checked non-NULL; the caller promises 128 bytes.
        unsafe { cstr::copy_to_buffer(session.user_id(), user_id_buffer) };
        Ok(())
    })
}

#[unsafe(no_mangle)]
pub extern "C" fn TIMGetLoginStatus() -> c_int {
    std::panic::catch_unwind(|| match state::sdk() {
        Ok(sdk) if sdk.login.lock().is_some() => LOGIN_STATUS_LOGINED,
        _ => LOGIN_STATUS_UNLOGINED,
    })
    .unwrap_or(LOGIN_STATUS_UNLOGINED)
}

static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

#[unsafe(no_mangle)]
pub extern "C" fn TIMGetSDKVersion() -> *const c_char {
    VERSION.as_ptr().cast()
}

#[unsafe(no_mangle)]
pub extern "C" fn TIMGetServerTime() -> u64 {
    std::panic::catch_unwind(|| match state::sdk() {
        Ok(sdk) => sdk.runtime.engine().now_ms() / 1000,
        Err(_) => timsg_actors::Clock::System.now_secs(),
    })
    .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_json_sets_the_engines_limits_and_refuses_nonsense() {
        let c = config_from(Some(
            r#"{"sdk_config_config_file_path":"d","timsg_config_batch_send_max":7,"timsg_config_call_deadline_ms":1500,
                "timsg_config_group_rate_limit":0,"timsg_config_activation_window":50,"timsg_config_uninit_wait_ms":0}"#,
        ))
        .unwrap();
        let e = &c.runtime;
        assert_eq!(
            (e.batch_send_max, e.call_deadline, e.group_rate_limit, e.activation_window),
            (7, Duration::from_millis(1500), 0, 50)
        );
        assert_eq!(c.uninit_wait, Duration::ZERO);
        assert_eq!(config_from(None).unwrap().uninit_wait, DEFAULT_UNINIT_WAIT);
        for bad in [
            r#"{"timsg_config_batch_send_max":0}"#,
            r#"{"timsg_config_activation_window":"x"}"#,
            r#"{"timsg_config_group_rate_limit":-1}"#,
        ] {
            assert_eq!(config_from(Some(bad)).err(), Some(code::TIM_ERR_PARAM), "{bad}");
        }
    }
}
