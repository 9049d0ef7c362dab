//! `timsg dispatch`: the JSON dispatcher over a pipe, for scripts and bots in any language.
//!
//! Each input line is one call: `{"api": "TIMMsgSendMessage", "conv_id": "bob", "conv_type": 1,
//! "json": {...}, "opt": 0, "tag": "any"}` (`json` may be an object or a string). Each call is
//! answered, in the order calls finish, by `{"tag", "code", "desc", "json_params",
//! "message_id"}`; download progress as `{"tag", "progress": {"current", "total"}}`; events of
//! the user arrive as `{"event": "RecvNewMsg", "json": [...]}`. The
//! command ends when standard input closes and every call has been answered.

use std::io::{BufRead, Write};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::DispatchArgs;
use crate::dispatch::{self, ApiCall};
use crate::events::to_listener_json;
use crate::runtime::{Runtime, RuntimeConfig};

#[derive(Debug, Deserialize)]
struct CallLine {
    api: String,
    #[serde(default)]
    conv_id: Option<String>,
    #[serde(default)]
    conv_type: u32,
    #[serde(default)]
    json: Value,
    #[serde(default)]
    opt: u32,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    tag: Value,
}

pub fn run(args: DispatchArgs) -> Result<(), String> {
    let runtime = Runtime::open(RuntimeConfig {
        data_dir: args.data_dir.clone(),
        durability: args.durability,
        ..Default::default()
    })
    .map_err(|e| e.to_string())?;
    let session = Arc::new(runtime.login(&args.user).map_err(|e| e.to_string())?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    // Output lines as JSON text, written by one thread in the order they come.
    let (out_tx, mut out_rx) = mpsc::channel::<String>(1024);
    let writer = std::thread::spawn(move || {
        let stdout = std::io::stdout();
        while let Some(line) = out_rx.blocking_recv() {
            let mut lock = stdout.lock();
            if writeln!(lock, "{line}").and_then(|_| lock.flush()).is_err() {
                break;
            }
        }
    });
    let mut events = session.take_events().ok_or("events already taken")?;
    let events_out = out_tx.clone();
    let event_task = rt.spawn(async move {
        while let Some(event) = events.recv().await {
            // The event's JSON is already text: written into the line as it is.
            let (listener, body) = to_listener_json(&event);
            let line = format!(r#"{{"event":{},"json":{body}}}"#, Value::from(listener.name()));
            if events_out.send(line).await.is_err() {
                break;
            }
        }
    });
    let mut calls = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let line = line.map_err(|e| e.to_string())?;
        if line.trim().is_empty() {
            continue;
        }
        let out = out_tx.clone();
        let session = session.clone();
        calls.push(rt.spawn(async move {
            let reply = match serde_json::from_str::<CallLine>(&line) {
                Err(e) => json!({"code": crate::error::code::TIM_ERR_JSON, "desc": format!("bad call line: {e}")}),
                Ok(c) => {
                    let json_text = dispatch::argument_text(&c.json);
                    let call = ApiCall { api: &c.api, conv_id: c.conv_id.as_deref(), conv_type: c.conv_type, json: &json_text, opt: c.opt, path: c.path.as_deref() };
                    match dispatch::begin(&session, &call) {
                        Err(e) => json!({"tag": c.tag, "code": e.code, "desc": e.desc, "json_params": ""}),
                        Ok(mut accepted) => {
                            let message_id = accepted.message_id.clone();
                            if let Some(mut progress) = accepted.progress.take() {
                                while let Some((current, total)) = progress.recv().await {
                                    let p = json!({"tag": c.tag, "progress": {"current": current, "total": total}});
                                    let _ = out.send(p.to_string()).await;
                                }
                            }
                            let r = accepted.completion.await;
                            json!({"tag": c.tag, "code": r.code, "desc": r.desc, "json_params": r.json_params, "message_id": message_id})
                        }
                    }
                }
            };
            let _ = out.send(reply.to_string()).await;
        }));
    }
    rt.block_on(async {
        for c in calls {
            let _ = c.await;
        }
    });
    event_task.abort();
    drop(out_tx);
    drop(session);
    rt.shutdown_background();
    runtime.shutdown();
    let _ = writer.join();
    Ok(())
}
