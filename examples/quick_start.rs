//! The README's quick start: two users, one message, one event, then a call in TIM JSON. The
//! lines between the `quick start` markers are the README's Rust block, word for word
//! (`tests/tidy.rs` keeps them so).

use timsg::dispatch::{ApiCall, dispatch};
use timsg::{ConvRef, Element, MessageContent, Runtime, RuntimeConfig};

#[tokio::main]
async fn main() -> Result<(), timsg::TimError> {
    let dir = std::env::temp_dir().join(format!("timsg-quick-start-{}", std::process::id()));
    // quick start: begin
    let runtime = Runtime::open(RuntimeConfig { data_dir: dir.clone(), ..Default::default() })?;
    let (alice, bob) = (runtime.login("alice")?, runtime.login("bob")?);
    let mut bob_events = bob.take_events().expect("first take");
    // The message ID is known at once; the outcome arrives once the message is durable.
    let pending = alice.send_message(&ConvRef::c2c("bob"), MessageContent::with_elements(vec![Element::text("hi")]))?;
    let sent = pending.outcome().await.map_err(timsg::TimError::from)?;
    eprintln!("sent seq {}; bob got {:?}", sent.message.seq, bob_events.recv().await);
    // The same API in TIM JSON, through the dispatcher every other way in uses.
    let carol = std::sync::Arc::new(runtime.login("carol")?);
    let call = ApiCall { api: "TIMMsgGetMsgList", conv_id: Some("bob"), conv_type: 1, ..Default::default() };
    let result = dispatch(&carol, &call).await; // code, desc, json_params
    // quick start: end
    eprintln!("carol's history with bob: {} {}", result.code, result.json_params);
    runtime.shutdown();
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
