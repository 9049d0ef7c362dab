//! `TIMMsgCancelSend` and the per-group rate limit: messages over the rate wait in the
//! conversation's send queue, where a cancel can still take them out.

mod common;

use common::*;
use timsg::dispatch::{ApiCall, begin};
use timsg_actors::group::GroupKind;

fn text(t: &str) -> String {
    serde_json::json!({"message_elem_array": [{"elem_type": 0, "text_elem_content": t}]}).to_string()
}

#[tokio::test]
async fn queued_message_is_cancelled_committed_one_is_not() {
    let h = Harness::new(|c| c.group_rate_limit = 1);
    let alice = h.login("alice");
    alice.create_group("g1", "team", GroupKind::Private, vec!["bob".into()]).await.unwrap();

    let (t1, t2) = (text("first"), text("second"));
    let first = begin(
        &alice,
        &ApiCall { api: "TIMMsgSendMessage", conv_id: Some("g1"), conv_type: 2, json: &t1, opt: 0, path: None },
    )
    .unwrap();
    let second = begin(
        &alice,
        &ApiCall { api: "TIMMsgSendMessage", conv_id: Some("g1"), conv_type: 2, json: &t2, opt: 0, path: None },
    )
    .unwrap();
    let (id1, id2) = (first.message_id.clone().unwrap(), second.message_id.clone().unwrap());

    // The second waits for the rate limit: cancel takes it out; its send fails with 8021.
    let r = call(&alice, "TIMMsgCancelSend", Some("g1"), 2, &id2).await;
    assert_eq!(r.code, 0, "{}", r.desc);
    let cancelled = second.completion.await;
    assert_eq!(cancelled.code, 8021);
    // The first committed: too late to cancel.
    assert_eq!(first.completion.await.code, 0);
    assert_eq!(call(&alice, "TIMMsgCancelSend", Some("g1"), 2, &id1).await.code, 8020);
    assert_eq!(call(&alice, "TIMMsgCancelSend", Some("g1"), 2, "no-such-id").await.code, 8020);
    // Cancelling twice: the second finds nothing.
    assert_eq!(call(&alice, "TIMMsgCancelSend", Some("g1"), 2, &id2).await.code, 8020);
    // The sender keeps the cancelled message, status Cancel (7), as the SDK does; bob sees nothing of it.
    let mine = call(&alice, "TIMMsgGetMsgList", Some("g1"), 2, r#"{"msg_getmsglist_param_count":10}"#).await;
    let kept: Vec<_> = mine.json.as_array().unwrap().iter().filter(|m| m["message_msg_id"] == id2.as_str()).collect();
    assert_eq!(kept.len(), 1, "{:?}", mine.json);
    assert_eq!(kept[0]["message_status"], 7);
    let bob = h.login("bob");
    let theirs = call(&bob, "TIMMsgGetMsgList", Some("g1"), 2, r#"{"msg_getmsglist_param_count":10}"#).await;
    assert!(theirs.json.as_array().unwrap().iter().all(|m| m["message_msg_id"] != id2.as_str()));

    // The queue drains as the clock allows; seqs stay gap-free.
    let t3 = text("third");
    let third = begin(
        &alice,
        &ApiCall { api: "TIMMsgSendMessage", conv_id: Some("g1"), conv_type: 2, json: &t3, opt: 0, path: None },
    )
    .unwrap();
    h.clock.advance_ms(1000);
    let third = third.completion.await;
    assert_eq!(third.code, 0);
    let third: serde_json::Value = serde_json::from_str(&third.json_params).unwrap();
    let history = call(&bob, "TIMMsgGetMsgList", Some("g1"), 2, r#"{"msg_getmsglist_param_count":10}"#).await;
    let seqs: Vec<u64> = history.json.as_array().unwrap().iter().map(|m| m["message_seq"].as_u64().unwrap()).collect();
    assert_eq!(
        seqs,
        vec![third["message_seq"].as_u64().unwrap(), 2, 1],
        "tip, first, third; no trace of the cancelled one for the others"
    );
}

#[tokio::test]
async fn a_full_group_queue_rejects_with_10023() {
    let h = Harness::new(|c| {
        c.group_rate_limit = 1;
        c.group_send_queue = 2;
    });
    let alice = h.login("alice");
    alice.create_group("g2", "busy", GroupKind::Private, vec![]).await.unwrap();
    let conv = timsg::ConvRef::group("g2");
    let content = || timsg::MessageContent::with_elements(vec![timsg::Element::text("x")]);
    let sends: Vec<_> = (0..4).map(|_| alice.send_message(&conv, content()).unwrap()).collect();
    let mut codes = Vec::new();
    for s in sends {
        codes.push(match tokio::time::timeout(std::time::Duration::from_secs(1), s.outcome()).await {
            Ok(Ok(_)) => 0,
            Ok(Err(e)) => timsg::TimError::from(e).code,
            Err(_) => -100, // still queued
        });
    }
    assert_eq!(codes, vec![0, -100, -100, 10023]);
}
