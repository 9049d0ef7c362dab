//! `TIMMsgImportMsgList`, `TIMMsgSaveMsg`, `TIMMsgSetLocalCustomData`, `TIMMsgFindMessages` and
//! `TIMMsgFindByMsgLocatorList`: local-only messages and per-user data.

mod common;

use common::*;
use serde_json::json;
use timsg::Event;

#[tokio::test]
async fn imported_and_saved_messages_are_local_only() {
    let h = Harness::default();
    let alice = h.login("alice");
    let bob = h.login("bob");
    let mut bob_events = bob.take_events().unwrap();
    let t0 = T0_MS / 1000;
    send_text(&alice, "bob", 1, "shared").await;
    let _ = next_event(&mut bob_events).await;
    // The seed's import sample, with times placing it before the shared message.
    let sample = json!([{
        "message_client_time": t0 - 100,
        "message_elem_array": [{"elem_type": 0, "text_elem_content": "this is import msg"}],
        "message_sender": "alice",
        "message_server_time": t0 - 100
    }]);
    let r = call(&alice, "TIMMsgImportMsgList", Some("bob"), 1, &sample.to_string()).await;
    assert_eq!(r.code, 0, "{}", r.desc);
    let saved =
        json!({"message_msg_id": "my-note", "message_elem_array": [{"elem_type": 3, "custom_elem_data": "note"}]});
    assert_eq!(call(&alice, "TIMMsgSaveMsg", Some("bob"), 1, &saved.to_string()).await.code, 0);

    let view = call(&alice, "TIMMsgGetMsgList", Some("bob"), 1, "").await.json;
    let view = view.as_array().unwrap();
    assert_eq!(view.len(), 3);
    assert_eq!(view[0]["message_msg_id"], "my-note", "saved now, so newest");
    assert_eq!(view[0]["message_status"], 5);
    assert_eq!(view[2]["message_elem_array"][0]["text_elem_content"], "this is import msg");
    assert_eq!(view[2]["message_status"], 5);
    assert_eq!(view[1]["message_seq"], 1, "local messages take no shared seq");
    // Bob sees none of it, and got no event.
    no_event(&mut bob_events);
    assert_eq!(
        texts(
            &call(&bob, "TIMMsgGetMsgList", Some("alice"), 1, r#"{"msg_getmsglist_param_is_remble":true}"#).await.json
        ),
        ["shared"]
    );
    // The next shared message still takes seq 2.
    assert_eq!(send_text(&alice, "bob", 1, "next").await["message_seq"], 2);
    // Saving the same id twice is refused.
    assert_eq!(call(&alice, "TIMMsgSaveMsg", Some("bob"), 1, &saved.to_string()).await.code, 6017);
    // An import with one message it cannot take saves none of them (no error after a part).
    let mixed = json!([
        {"message_msg_id": "fresh", "message_elem_array": [{"elem_type": 0, "text_elem_content": "fresh"}]},
        {"message_msg_id": "my-note", "message_elem_array": [{"elem_type": 0, "text_elem_content": "again"}]}
    ]);
    assert_eq!(call(&alice, "TIMMsgImportMsgList", Some("bob"), 1, &mixed.to_string()).await.code, 6017);
    let view = call(&alice, "TIMMsgGetMsgList", Some("bob"), 1, "").await.json;
    assert!(view.as_array().unwrap().iter().all(|m| m["message_msg_id"] != "fresh"), "{view}");
    match next_event(&mut bob_events).await {
        Event::NewMessages { messages, .. } => assert_eq!(messages[0].message.seq, 2),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn local_custom_data_is_per_user_and_found_again() {
    let h = Harness::default();
    let alice = h.login("alice");
    let bob = h.login("bob");
    let sent = send_text(&alice, "bob", 1, "tag me").await;
    let mut tagged = sent.clone();
    tagged["message_custom_int"] = json!(7);
    tagged["message_custom_str"] = json!("starred");
    assert_eq!(call(&alice, "TIMMsgSetLocalCustomData", None, 0, &tagged.to_string()).await.code, 0);

    let ids = json!([sent["message_msg_id"]]).to_string();
    let found = call(&alice, "TIMMsgFindMessages", None, 0, &ids).await.json;
    assert_eq!(found[0]["message_custom_int"], 7);
    assert_eq!(found[0]["message_custom_str"], "starred");
    let theirs = call(&bob, "TIMMsgFindMessages", None, 0, &ids).await.json;
    assert_eq!(theirs[0]["message_custom_int"], 0, "custom data is the caller's alone");
    // Strangers find nothing.
    let carol = h.login("carol");
    assert_eq!(call(&carol, "TIMMsgFindMessages", None, 0, &ids).await.json, json!([]));
    // The seed's sample bug (a string for the int) is a JSON error.
    tagged["message_custom_int"] = json!("custom int");
    assert_eq!(call(&alice, "TIMMsgSetLocalCustomData", None, 0, &tagged.to_string()).await.code, -3);

    // Locators: seq, rand and time name one message.
    let loc = json!([{
        "message_locator_is_revoked": false,
        "message_locator_is_self": true,
        "message_locator_rand": sent["message_rand"],
        "message_locator_seq": sent["message_seq"],
        "message_locator_time": sent["message_server_time"]
    }]);
    let found = call(&alice, "TIMMsgFindByMsgLocatorList", Some("bob"), 1, &loc.to_string()).await.json;
    assert_eq!(found[0]["message_msg_id"], sent["message_msg_id"]);
    // The seed's sample locator names nothing here.
    let sample = r#"[{"message_locator_is_revoked":false,"message_locator_is_self":false,"message_locator_rand":12345678,"message_locator_seq":1,"message_locator_time":123}]"#;
    assert_eq!(call(&alice, "TIMMsgFindByMsgLocatorList", Some("bob"), 1, sample).await.json, json!([]));
}
