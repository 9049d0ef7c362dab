//! The two store backends answer alike: one scripted session (C2C and group sends, a revoke,
//! local-only messages, a deletion, receive options, searches, lookups by ID, missed messages
//! after a logout, and every conversation passivated and reloaded from the store) runs on the
//! SQLite store and on the memory store, and every answer is compared.

mod common;

use std::sync::Arc;

use common::*;
use serde_json::{Value, json};
use timsg::{ConvRef, Durability, Event, Session};
use timsg_actors::group::GroupKind;

/// Keys whose values differ from run to run by design (generated IDs and randoms).
const RUN_SPECIFIC_KEYS: [&str; 3] = ["message_msg_id", "message_rand", "message_unique_id"];

fn normalized(mut v: Value) -> Value {
    match &mut v {
        Value::Object(map) => {
            for k in RUN_SPECIFIC_KEYS {
                map.remove(k);
            }
            for (_, inner) in map.iter_mut() {
                *inner = normalized(inner.take());
            }
        }
        Value::Array(items) => {
            for inner in items.iter_mut() {
                *inner = normalized(inner.take());
            }
        }
        _ => {}
    }
    v
}

struct Transcript(Vec<(String, i32, Value)>);

impl Transcript {
    async fn call(&mut self, label: &str, s: &Arc<Session>, api: &str, conv: Option<&str>, ty: u32, json: Value) {
        let json = if json.is_null() { String::new() } else { json.to_string() };
        let r = call(s, api, conv, ty, &json).await;
        self.0.push((format!("{label}: {api}"), r.code, normalized(r.json)));
    }
}

fn missed_texts(events: &[Event]) -> Vec<String> {
    let mut out = Vec::new();
    for e in events {
        if let Event::NewMessages { messages, .. } = e {
            out.extend(messages.iter().map(|m| format!("{}#{}", m.message.sender, m.message.seq)));
        }
    }
    out
}

async fn scenario(durability: Durability) -> Transcript {
    let h = Harness::new(|c| c.durability = durability);
    let mut t = Transcript(Vec::new());
    let alice = h.login("alice");
    let bob = h.login("bob");
    let carol = h.login("carol");

    let fox = send_text(&alice, "bob", 1, "the quick brown fox").await;
    send_text(&bob, "alice", 1, "a lazy brown dog").await;
    let bread = send_text(&carol, "bob", 1, "Brown Bread").await;
    send_text(&alice, "bob", 1, "我们明天去北京开会").await;
    let custom = json!({"message_elem_array": [{"elem_type": 3, "custom_elem_data": "brown custom payload"}]});
    t.call("custom", &alice, "TIMMsgSendMessage", Some("bob"), 1, custom).await;
    alice.create_group("club", "Club", GroupKind::Public, vec!["bob".into(), "carol".into()]).await.unwrap();
    send_text(&alice, "club", 2, "club brown news").await;
    send_text(&bob, "club", 2, "hi club").await;
    h.clock.advance_ms(1_000);

    t.call("revoke the fox", &alice, "TIMMsgRevoke", Some("bob"), 1, fox.clone()).await;
    let import = json!([{
        "message_client_time": T0_MS / 1000 - 100,
        "message_elem_array": [{"elem_type": 0, "text_elem_content": "imported brown note"}],
        "message_sender": "alice",
        "message_server_time": T0_MS / 1000 - 100
    }]);
    t.call("import", &alice, "TIMMsgImportMsgList", Some("bob"), 1, import).await;
    let saved = json!({"message_msg_id": "note-1", "message_elem_array": [{"elem_type": 0, "text_elem_content": "saved brown memo"}]});
    t.call("save", &alice, "TIMMsgSaveMsg", Some("bob"), 1, saved).await;
    let delete = json!({"msg_delete_param_msg": bread, "msg_delete_param_is_remble": true});
    t.call("delete", &bob, "TIMMsgDelete", Some("carol"), 1, delete).await;
    let opt = call_opt(&bob, "TIMMsgSetC2CReceiveMessageOpt", None, 0, &json!(["carol"]).to_string(), 1).await;
    assert_eq!(opt.code, 0, "{}", opt.desc);

    // Every conversation leaves memory; what follows reads them back from the store.
    let engine = h.runtime.engine().clone();
    for (session, conv) in
        [(&alice, ConvRef::c2c("bob")), (&bob, ConvRef::c2c("carol")), (&alice, ConvRef::group("club"))]
    {
        let key = session.conv_key(&conv).unwrap();
        assert!(engine.passivate(&key).await.unwrap(), "{key} was active");
    }

    for (who, s) in [("alice", &alice), ("bob", &bob)] {
        for (conv, ty) in [("bob", 1), ("alice", 1), ("carol", 1), ("club", 2)] {
            t.call(who, s, "TIMMsgGetMsgList", Some(conv), ty, json!({"msg_getmsglist_param_count": 20})).await;
        }
    }
    let searches = [
        json!({"msg_search_param_keyword_array": ["brown"]}),
        json!({"msg_search_param_keyword_array": ["BROWN", "news"], "msg_search_param_keyword_list_match_type": 1}),
        json!({"msg_search_param_keyword_array": ["brown"], "msg_search_param_send_indentifier_array": ["alice"]}),
        json!({"msg_search_param_keyword_array": ["北京"]}),
        json!({"msg_search_param_keyword_array": ["fox", "memo"]}),
        json!({"msg_search_param_conv_id": "bob", "msg_search_param_conv_type": 1}),
        json!({"msg_search_param_message_type_array": [3]}),
        json!({"msg_search_param_keyword_array": ["club"], "msg_search_param_conv_id": "club", "msg_search_param_conv_type": 2}),
    ];
    for (i, q) in searches.into_iter().enumerate() {
        t.call(&format!("search {i} by alice"), &alice, "TIMMsgSearchLocalMessages", None, 0, q.clone()).await;
        t.call(&format!("search {i} by bob"), &bob, "TIMMsgSearchLocalMessages", None, 0, q).await;
    }
    let ids = json!([fox["message_msg_id"], "note-1", "no-such-id"]);
    t.call("find", &alice, "TIMMsgFindMessages", None, 0, ids.clone()).await;
    t.call("find", &bob, "TIMMsgFindMessages", None, 0, ids).await;
    t.call("opts", &bob, "TIMMsgGetC2CReceiveMessageOpt", None, 0, json!(["carol", "alice"])).await;

    // Bob logs out; what he misses is handed to his next login.
    drop(bob);
    send_text(&alice, "bob", 1, "while away").await;
    send_text(&carol, "club", 2, "club while away").await;
    let bob = h.login("bob");
    let missed = missed_texts(&bob.missed_events().await.unwrap());
    t.0.push(("missed by bob".into(), 0, json!(missed)));
    t
}

#[tokio::test]
async fn the_memory_store_answers_as_the_sqlite_store_does() {
    let sqlite = scenario(Durability::Os).await;
    let memory = scenario(Durability::Memory).await;
    assert_eq!(sqlite.0.len(), memory.0.len());
    for (s, m) in sqlite.0.iter().zip(&memory.0) {
        assert_eq!(s, m, "the backends differ");
    }
    // The scenario means something: searches found messages, and the missed ones arrived.
    let found = |label: &str| sqlite.0.iter().find(|(l, ..)| l.starts_with(label)).unwrap().2.clone();
    // Bob: alice's conversation and the club (carol's message he deleted, alice's he cannot
    // see revoked); alice: four in bob's (the revoked fox is gone, her local two are in).
    assert_eq!(found("search 0 by bob")["msg_search_result_total_count"], 2);
    let alice_items = &found("search 0 by alice")["msg_search_result_item_array"];
    assert_eq!(alice_items[0]["msg_search_result_item_total_message_count"], 4, "{alice_items}");
    assert_eq!(found("missed by bob"), json!(["alice#5", "carol#4"]));
}
