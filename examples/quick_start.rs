//! The README's quick start: two users, one message, one event, then a call in TIM JSON.

use timsg::{ConvRef, Element, MessageContent, Runtime, RuntimeConfig};

#[tokio::main]
async fn main() -> Result<(), timsg::TimError> {
    let dir = std::env::temp_dir().join(format!("timsg-quick-start-{}", std::process::id()));
    let runtime = Runtime::open(RuntimeConfig { data_dir: dir.clone(), ..Default::default() })?;
    let alice = runtime.login("alice")?;
    let bob = runtime.login("bob")?;
    let mut bob_events = bob.take_events().expect("first take");

    // The message ID is known at once; the outcome arrives once the message is durable.
    let pending =
        alice.send_message(&ConvRef::c2c("bob"), MessageContent::with_elements(vec![Element::text("hello")]))?;
    eprintln!("sending {}", pending.id);
    let sent = pending.outcome().await.map_err(timsg::TimError::from)?;
    assert_eq!(sent.message.seq, 1);

    eprintln!("bob got {:?}", bob_events.recv().await);

    // The same API in TIM JSON, through the dispatcher every other way in uses.
    let session = std::sync::Arc::new(runtime.login("carol")?);
    let call =
        timsg::dispatch::ApiCall { api: "TIMMsgGetMsgList", conv_id: Some("bob"), conv_type: 1, ..Default::default() };
    let result = timsg::dispatch::dispatch(&session, &call).await; // (code, desc, json_params)
    eprintln!("carol's history with bob: {} {}", result.code, result.json_params);
    runtime.shutdown();
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
