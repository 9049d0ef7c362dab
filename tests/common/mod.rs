//! Helpers shared by the end-to-end tests: a runtime on a throw-away store with a manual
//! clock, logged-in sessions, and dispatch calls that return parsed JSON.

#![allow(dead_code)]

pub mod http_server;
pub mod service;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use timsg::dispatch::{self, ApiCall, DispatchResult};
use timsg::{Clock, Durability, Event, EventStream, Runtime, RuntimeConfig, Session};

/// Start of the manual clock: 2026-01-01T00:00:00Z.
pub const T0_MS: u64 = 1_767_225_600_000;

pub struct Harness {
    pub runtime: Runtime,
    pub clock: Clock,
    pub dir: tempfile::TempDir,
}

impl Harness {
    /// A runtime on a fresh data directory, durable (`os`), with a manual clock and the given
    /// config tweaks.
    pub fn new(tweak: impl FnOnce(&mut RuntimeConfig)) -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Clock::manual(T0_MS);
        let mut config = RuntimeConfig {
            data_dir: dir.path().to_path_buf(),
            durability: Durability::Os,
            clock: clock.clone(),
            arbiters: 2,
            ..Default::default()
        };
        tweak(&mut config);
        let runtime = Runtime::open(config).expect("runtime opens");
        Harness { runtime, clock, dir }
    }

    pub fn default() -> Harness {
        Harness::new(|_| {})
    }

    /// Opens a second runtime on the same data directory (after shutting this one down).
    pub fn reopen(&mut self) {
        self.runtime.shutdown();
        let config = RuntimeConfig {
            data_dir: self.dir.path().to_path_buf(),
            durability: Durability::Os,
            clock: self.clock.clone(),
            arbiters: 2,
            ..Default::default()
        };
        self.runtime = Runtime::open(config).expect("runtime reopens");
    }

    pub fn login(&self, user: &str) -> Arc<Session> {
        Arc::new(self.runtime.login(user).expect("login"))
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.runtime.shutdown();
    }
}

/// A dispatched call's result with `json_params` parsed (Null when empty).
#[derive(Debug)]
pub struct Res {
    pub code: i32,
    pub desc: String,
    pub json: Value,
}

pub async fn call(s: &Arc<Session>, api: &str, conv_id: Option<&str>, conv_type: u32, json: &str) -> Res {
    call_opt(s, api, conv_id, conv_type, json, 0).await
}

pub async fn call_opt(s: &Arc<Session>, api: &str, conv_id: Option<&str>, conv_type: u32, json: &str, opt: u32) -> Res {
    let DispatchResult { code, desc, json_params } =
        dispatch::dispatch(s, &ApiCall { api, conv_id, conv_type, json, opt, path: None }).await;
    let json = if json_params.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&json_params).unwrap_or_else(|e| panic!("{api} returned bad json {json_params}: {e}"))
    };
    Res { code, desc, json }
}

/// Sends a text message through the dispatcher and returns the sent message JSON.
pub async fn send_text(s: &Arc<Session>, conv_id: &str, conv_type: u32, text: &str) -> Value {
    let msg = serde_json::json!({
        "message_elem_array": [{"elem_type": 0, "text_elem_content": text}],
    });
    let r = call(s, "TIMMsgSendMessage", Some(conv_id), conv_type, &msg.to_string()).await;
    assert_eq!(r.code, 0, "send failed: {}", r.desc);
    r.json
}

/// Waits for the next event, failing after a few seconds.
pub async fn next_event(events: &mut EventStream) -> Event {
    tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("an event arrives")
        .expect("the stream is open")
}

/// Asserts that no event is waiting.
pub fn no_event(events: &mut EventStream) {
    assert!(events.try_recv().is_err(), "no event expected");
}

/// The texts of a message array, in order.
pub fn texts(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|m| m["message_elem_array"][0]["text_elem_content"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Throws away every event waiting in the stream.
pub fn drain(events: &mut EventStream) {
    while events.try_recv().is_ok() {}
}
