//! `TIMInit`, `TIMUninit`, `TIMLogin`, `TIMLogout`, `TIMGetLoginUserID`, `TIMGetLoginStatus`,
//! `TIMGetSDKVersion`, `TIMGetServerTime`.
//!
//! `TIMInit`'s JSON config takes the SDK's `sdk_config_config_file_path` (the data directory)
//! and two keys of ours: `timsg_config_secret_key` (also the `TIMSG_SECRET_KEY` environment
//! variable) and `timsg_config_durability` (`fsync`, `os`, `memory`). With a secret key,
//! `TIMLogin` verifies UserSig v2; without one it accepts any UserSig and logs a warning.

use std::ffi::{c_char, c_int, c_void};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::callbacks::{CallbackThread, CommCallback, UserData};
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

fn config_from(json: Option<&str>) -> Result<(RuntimeConfig, Option<String>), i32> {
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
    Ok((config, secret))
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
        let (config, secret_key) = config_from(json)?;
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
        let sdk = Sdk { sdk_app_id, secret_key, runtime, driver, callbacks, login: Default::default() };
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
        end_login(&sdk);
        if !sdk.callbacks.wait_idle(Duration::from_secs(30)) {
            tracing::warn!("TIMUninit: calls still pending after 30 s");
        }
        match Arc::try_unwrap(sdk) {
            Ok(sdk) => {
                sdk.driver.shutdown_timeout(Duration::from_secs(5));
                sdk.callbacks.stop();
                sdk.runtime.shutdown();
            }
            Err(sdk) => {
                // A call on another thread still holds the SDK: stop what can be stopped.
                sdk.callbacks.stop();
                sdk.runtime.shutdown();
            }
        }
        Ok(())
    })
}

fn end_login(sdk: &Sdk) {
    if let Some(login) = sdk.login.lock().take() {
        login.pump.abort();
        // Dropping the last session handle logs the user out (downloads stop, the logout
        // point is recorded).
        drop(login.session);
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
        let ud = UserData(user_data);
        let done = poster.begin_call();
        if let Some(key) = &sdk.secret_key {
            let now = sdk.runtime.engine().now_ms() / 1000;
            if let Err(e) = usersig::verify(&sig, sdk.sdk_app_id, key, &user, now) {
                poster.comm(cb, e.code, e.desc, String::new(), ud, Some(done));
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
            poster.comm(cb, code, desc, String::new(), ud, Some(done));
            return Ok(());
        }
        let session = match sdk.runtime.login(&user) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                poster.comm(cb, e.code, e.desc, String::new(), ud, Some(done));
                return Ok(());
            }
        };
        // What reached the user while logged out goes to the listeners first, then live events.
        let (s2, p2) = (session.clone(), poster.clone());
        let pump = sdk.driver.spawn(async move {
            if let Some(events) = s2.take_events_after_missed().await {
                drop(s2);
                listeners::pump(events, p2).await;
            }
        });
        *login = Some(LoginState { session, pump });
        drop(login);
        poster.comm(cb, code::ERR_SUCC, String::new(), String::new(), ud, Some(done));
        Ok(())
    })
}

#[unsafe(no_mangle)]
pub extern "C" fn TIMLogout(cb: CommCallback, user_data: *const c_void) -> c_int {
    guarded(|| {
        let sdk = state::sdk()?;
        let poster = sdk.callbacks.poster().ok_or(code::TIM_ERR_SDKUNINIT)?;
        end_login(&sdk);
        let done = poster.begin_call();
        poster.comm(cb, code::ERR_SUCC, String::new(), String::new(), UserData(user_data), Some(done));
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
