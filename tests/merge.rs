//! Merged messages: sending a Merge element stores the merged list as a blob; the receiver
//! gets it back with `TIMMsgDownloadMergerMessage`, nested merges included; over 300 messages
//! or 100 layers gives 8005.

mod common;

use common::*;
use serde_json::{Value, json};
use timsg::Event;

fn merge_of(messages: Vec<Value>, title: &str) -> Value {
    json!({"message_elem_array": [{
        "elem_type": 12,
        "merge_elem_title": title,
        "merge_elem_abstract_array": ["alice: one", "alice: two"],
        "merge_elem_compatible_text": "[merged messages]",
        "merge_elem_message_array": messages
    }]})
}

async fn download(s: &std::sync::Arc<timsg::Session>, msg: &Value) -> Res {
    call(s, "TIMMsgDownloadMergerMessage", None, 0, &msg.to_string()).await
}

#[tokio::test]
async fn merged_messages_round_trip_with_nesting() {
    let h = Harness::default();
    let alice = h.login("alice");
    let bob = h.login("bob");
    let mut bob_events = bob.take_events().unwrap();
    let m1 = send_text(&alice, "carol", 1, "one").await;
    let m2 = send_text(&alice, "carol", 1, "two").await;
    let r = call(
        &alice,
        "TIMMsgSendMessage",
        Some("bob"),
        1,
        &merge_of(vec![m1.clone(), m2.clone()], "chat history").to_string(),
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.desc);
    let received = match next_event(&mut bob_events).await {
        Event::NewMessages { messages, .. } => timsg::wire::view_to_json(&messages[0]),
        other => panic!("unexpected {other:?}"),
    };
    let elem = &received["message_elem_array"][0];
    assert_eq!(elem["merge_elem_title"], "chat history");
    assert!(elem.get("merge_elem_message_array").is_none(), "the list travels as a blob");
    assert!(elem["merge_elem_relay_json_key"].as_str().unwrap().ends_with("-1"));
    let got = download(&bob, &received).await;
    assert_eq!(got.code, 0, "{}", got.desc);
    assert_eq!(got.json, json!([m1, m2]));

    // Bob forwards the merged message inside a new one: two layers.
    let r =
        call(&bob, "TIMMsgSendMessage", Some("alice"), 1, &merge_of(vec![received.clone()], "forwarded").to_string())
            .await;
    assert_eq!(r.code, 0, "{}", r.desc);
    let outer = r.json;
    assert!(outer["message_elem_array"][0]["merge_elem_relay_json_key"].as_str().unwrap().ends_with("-2"));
    let inner = download(&alice, &outer).await.json;
    assert_eq!(inner[0]["message_elem_array"][0]["merge_elem_title"], "chat history");
    assert_eq!(download(&alice, &inner[0]).await.json, json!([m1, m2]));
}

#[tokio::test]
async fn limits_and_bad_input() {
    let h = Harness::default();
    let alice = h.login("alice");
    let one = send_text(&alice, "bob", 1, "x").await;
    let r =
        call(&alice, "TIMMsgSendMessage", Some("bob"), 1, &merge_of(vec![one.clone(); 301], "too many").to_string())
            .await;
    assert_eq!(r.code, 8005);
    let deep = json!({"message_elem_array": [{"elem_type": 12, "merge_elem_title": "deep", "merge_elem_relay_json_key": format!("{}-100", "a".repeat(64))}]});
    let r = call(&alice, "TIMMsgSendMessage", Some("bob"), 1, &merge_of(vec![deep], "too deep").to_string()).await;
    assert_eq!(r.code, 8005);
    // Not a merged message: a parameter error; an unknown relay key: 6009.
    assert_eq!(download(&alice, &one).await.code, -4);
    let unknown = json!({"message_elem_array": [{"elem_type": 12, "merge_elem_relay_json_key": format!("{}-1", "b".repeat(64))}]});
    assert_eq!(download(&alice, &unknown).await.code, 6009);
    let over = json!({"message_elem_array": [{"elem_type": 12, "merge_elem_layer_over_limit": true}]});
    assert_eq!(download(&alice, &over).await.code, 8005);
}
