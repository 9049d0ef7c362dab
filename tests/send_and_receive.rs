//! Sending through the JSON dispatcher: the sent message, delivery to the peer, idempotent
//! re-send, and the errors a bad send gets.

mod common;

use common::*;
use serde_json::json;
use timsg::Event;

#[tokio::test]
async fn c2c_send_is_acknowledged_and_delivered() {
    let h = Harness::default();
    let alice = h.login("alice");
    let bob = h.login("bob");
    let mut bob_events = bob.take_events().unwrap();

    let sent = send_text(&alice, "bob", 1, "hello bob").await;
    assert_eq!(sent["message_status"], 2);
    assert_eq!(sent["message_seq"], 1);
    assert_eq!(sent["message_sender"], "alice");
    assert_eq!(sent["message_conv_id"], "bob");
    assert_eq!(sent["message_is_from_self"], true);
    assert_eq!(sent["message_server_time"], T0_MS / 1000);
    assert!(!sent["message_msg_id"].as_str().unwrap().is_empty());

    match next_event(&mut bob_events).await {
        Event::NewMessages { messages, notify } => {
            assert!(notify);
            assert_eq!(messages.len(), 1);
            let m = timsg::wire::view_to_json(&messages[0]);
            assert_eq!(m["message_conv_id"], "alice");
            assert_eq!(m["message_is_from_self"], false);
            assert_eq!(m["message_is_read"], false);
            assert_eq!(m["message_elem_array"][0]["text_elem_content"], "hello bob");
        }
        other => panic!("unexpected {other:?}"),
    }
    let second = send_text(&bob, "alice", 1, "hi alice").await;
    assert_eq!(second["message_seq"], 2, "both users share one log");
}

#[tokio::test]
async fn message_id_is_known_synchronously_and_resend_is_idempotent() {
    let h = Harness::default();
    let alice = h.login("alice");
    let api_call = timsg::dispatch::ApiCall {
        api: "TIMMsgSendMessage",
        conv_id: Some("bob"),
        conv_type: 1,
        json: r#"{"message_elem_array":[{"elem_type":0,"text_elem_content":"once"}]}"#,
        opt: 0,
        path: None,
    };
    let accepted = timsg::dispatch::begin(&alice, &api_call).expect("accepted");
    let id = accepted.message_id.clone().expect("id assigned synchronously");
    let first = accepted.completion.await;
    assert_eq!(first.code, 0);
    let first: serde_json::Value = serde_json::from_str(&first.json_params).unwrap();
    assert_eq!(first["message_msg_id"], id.as_str());

    let again = json!({"message_msg_id": id, "message_elem_array": [{"elem_type": 0, "text_elem_content": "once"}]});
    let r = call_json(&alice, &again).await;
    assert_eq!(r.code, 0);
    assert_eq!(r.json["message_seq"], first["message_seq"]);
    let history = call(&alice, "TIMMsgGetMsgList", Some("bob"), 1, r#"{"msg_getmsglist_param_count":10}"#).await;
    assert_eq!(history.json.as_array().unwrap().len(), 1, "no duplicate");
}

#[tokio::test]
async fn another_senders_message_id_is_refused_not_answered_with_the_original() {
    let h = Harness::default();
    let alice = h.login("alice");
    let bob = h.login("bob");
    let first =
        call_json(&alice, &json!({"message_elem_array": [{"elem_type": 0, "text_elem_content": "alice's"}]})).await;
    assert_eq!(first.code, 0);
    let id = first.json["message_msg_id"].as_str().unwrap().to_string();
    // Bob reuses Alice's ID in their conversation: refused, not answered with her message as
    // if it were his, and nothing stored.
    let reuse = json!({"message_msg_id": id, "message_elem_array": [{"elem_type": 0, "text_elem_content": "bob's"}]});
    let r = call(&bob, "TIMMsgSendMessage", Some("alice"), 1, &reuse.to_string()).await;
    assert_eq!(r.code, 6017, "{}", r.desc);
    assert!(r.desc.contains("another sender"), "{}", r.desc);
    let history = call(&bob, "TIMMsgGetMsgList", Some("alice"), 1, r#"{"msg_getmsglist_param_count":10}"#).await;
    let texts: Vec<_> = history
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message_elem_array"][0]["text_elem_content"].clone())
        .collect();
    assert_eq!(texts, [json!("alice's")]);
    // Alice resending her own ID still gets her message back.
    let again = json!({"message_msg_id": id, "message_elem_array": [{"elem_type": 0, "text_elem_content": "alice's"}]});
    let r = call_json(&alice, &again).await;
    assert_eq!((r.code, r.json["message_seq"].clone()), (0, first.json["message_seq"].clone()));
}

async fn call_json(s: &std::sync::Arc<timsg::Session>, msg: &serde_json::Value) -> Res {
    call(s, "TIMMsgSendMessage", Some("bob"), 1, &msg.to_string()).await
}

#[tokio::test]
async fn bad_sends_get_tim_codes() {
    let h = Harness::default();
    let alice = h.login("alice");
    let text = r#"{"message_elem_array":[{"elem_type":0,"text_elem_content":"x"}]}"#;
    // Malformed JSON and wrong types: TIM_ERR_JSON, synchronously.
    assert_eq!(call(&alice, "TIMMsgSendMessage", Some("bob"), 1, "{not json").await.code, -3);
    let r = call(
        &alice,
        "TIMMsgSendMessage",
        Some("bob"),
        1,
        r#"{"message_elem_array":[{"elem_type":0,"text_elem_content":5}]}"#,
    )
    .await;
    assert_eq!(r.code, -3);
    assert!(r.desc.contains("json_msg_param"), "{}", r.desc);
    // Unknown conversation type, missing conversation, missing parameter.
    assert_eq!(call(&alice, "TIMMsgSendMessage", Some("bob"), 7, text).await.code, -5);
    assert_eq!(call(&alice, "TIMMsgSendMessage", None, 1, text).await.code, -4);
    assert_eq!(call(&alice, "TIMMsgSendMessage", Some("bob"), 1, "").await.code, -4);
    // Bad receiver ID: 7003.
    assert_eq!(call(&alice, "TIMMsgSendMessage", Some("b\tob"), 1, text).await.code, 7003);
    // Group tips cannot be sent: 6016.
    let tips = r#"{"message_elem_array":[{"elem_type":5,"group_tips_elem_tip_type":1}]}"#;
    assert_eq!(call(&alice, "TIMMsgSendMessage", Some("bob"), 1, tips).await.code, 6016);
    let report = r#"{"message_elem_array":[{"elem_type":8}]}"#;
    assert_eq!(call(&alice, "TIMMsgSendMessage", Some("bob"), 1, report).await.code, 6016);
    // Over 12 KB: 8001.
    let big = json!({"message_elem_array": [{"elem_type": 0, "text_elem_content": "x".repeat(12 * 1024 + 1)}]});
    let r = call(&alice, "TIMMsgSendMessage", Some("bob"), 1, &big.to_string()).await;
    assert_eq!(r.code, 8001, "{}", r.desc);
    // No elements.
    assert_eq!(call(&alice, "TIMMsgSendMessage", Some("bob"), 1, "{}").await.code, 6017);
    // Unknown API.
    assert_eq!(call(&alice, "TIMMsgNoSuchThing", Some("bob"), 1, text).await.code, -4);
    // Nothing was stored by any of that.
    let history = call(&alice, "TIMMsgGetMsgList", Some("bob"), 1, "").await;
    assert_eq!(history.json, json!([]));
}

#[tokio::test]
async fn what_was_missed_comes_before_what_arrives_live_each_message_once() {
    let h = Harness::default();
    let alice = h.login("alice");
    for i in 1..=3 {
        send_text(&alice, "bob", 1, &format!("while away {i}")).await;
    }
    // Bob logs in; a message arrives live before his missed ones have been read.
    let bob = h.login("bob");
    send_text(&alice, "bob", 1, "live").await;
    let mut events = bob.take_events_after_missed().await.unwrap();
    let mut seqs = Vec::new();
    while seqs.len() < 4 {
        let e = tokio::time::timeout(std::time::Duration::from_secs(5), events.recv()).await.unwrap().unwrap();
        if let timsg::Event::NewMessages { messages, .. } = e {
            seqs.extend(messages.iter().map(|m| m.message.seq));
        }
    }
    assert_eq!(seqs, [1, 2, 3, 4], "missed first, in seq order, then live");
    send_text(&alice, "bob", 1, "later").await;
    let next = tokio::time::timeout(std::time::Duration::from_secs(5), events.recv()).await.unwrap().unwrap();
    match next {
        timsg::Event::NewMessages { messages, .. } => assert_eq!(messages[0].message.seq, 5),
        other => panic!("expected the next message, got {other:?}"),
    }
}

/// Bob's first login ends while its catch-up is under way (its stream taken, what was missed
/// not yet read, or being read) and before any event reached its consumer, while messages arrive before it, during it and after it, and one is
/// revoked after it. The abandoned catch-up hands out nothing, and the next login gets every
/// unrevoked message once (none lost to the first login's unread stream, none read twice from
/// what was kept after its logout) and the revoke (as the first login would have live).
#[tokio::test]
async fn a_logout_before_the_catch_up_is_handed_out_leaves_all_of_it_to_the_next_login() {
    for while_reading in [false, true] {
        let h = Harness::default();
        let alice = h.login("alice");
        send_text(&alice, "bob", 1, "before the first login").await;
        let first = h.login("bob");
        let during = send_text(&alice, "bob", 1, "during the first login").await;
        // The stream is taken at the call; the read of what was missed waits to be polled
        // (or, while reading, runs on a task of its own up to its first wait on the store's
        // writer thread).
        let after_logout = async {
            send_text(&alice, "bob", 1, "after the first logout").await;
            assert_eq!(call(&alice, "TIMMsgRevoke", Some("bob"), 1, &during.to_string()).await.code, 0);
        };
        let abandoned = if while_reading {
            let catch_up = tokio::spawn(first.take_events_after_missed_owned());
            tokio::task::yield_now().await;
            first.logout();
            after_logout.await;
            catch_up.await.unwrap()
        } else {
            let catch_up = first.take_events_after_missed();
            first.logout();
            after_logout.await;
            catch_up.await
        };
        assert!(abandoned.is_none(), "an abandoned catch-up hands nothing out (while reading: {while_reading})");

        let second = h.login("bob");
        let mut events = second.take_events_after_missed().await.unwrap();
        let (mut seqs, mut revoked) = (Vec::new(), Vec::new());
        loop {
            match tokio::time::timeout(std::time::Duration::from_millis(500), events.recv()).await {
                Ok(Some(timsg::Event::NewMessages { messages, .. })) => {
                    seqs.extend(messages.iter().map(|m| m.message.seq))
                }
                Ok(Some(timsg::Event::Revoked { locators, .. })) => revoked.extend(locators.iter().map(|l| l.seq)),
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        // The revoked one is no longer new.
        assert_eq!(seqs, [1, 3], "every message once, in order (while reading: {while_reading})");
        assert_eq!(revoked, [2], "the revoke after the abandoned login's start (while reading: {while_reading})");
    }
}
