//! Every JSON sample of the seed API reference parses into its wire type and survives a round
//! trip: each key and value of the sample comes back out, unknown keys included.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use timsg::wire::WireMessage;
use timsg::wire::lenient;
use timsg::wire::params::{
    GetC2CRecvMsgOptResult, MessageSearchParam, MsgBatchSendParam, MsgDeleteParam, MsgGetMsgListParam, MsgLocator,
};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/seed/{name}.json", env!("CARGO_MANIFEST_DIR"))).expect(name)
}

/// Every key/value of `input` is in `output` (recursively for objects and arrays).
fn contains(output: &Value, input: &Value) -> bool {
    match (output, input) {
        (Value::Object(o), Value::Object(i)) => i.iter().all(|(k, v)| o.get(k).is_some_and(|ov| contains(ov, v))),
        (Value::Array(o), Value::Array(i)) => o.len() == i.len() && o.iter().zip(i).all(|(a, b)| contains(a, b)),
        (a, b) => a == b,
    }
}

fn round_trips<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(name: &str) {
    let text = fixture(name);
    let parsed: T = lenient::from_str(&text).unwrap_or_else(|e| panic!("{name} parses: {e}"));
    let input: Value = lenient::from_str(&text).unwrap();
    let output = serde_json::to_value(&parsed).unwrap();
    assert!(contains(&output, &input), "{name}: {output} lost something of {input}");
    let again: T = serde_json::from_value(output).unwrap();
    assert_eq!(again, parsed, "{name} round trip");
}

#[test]
fn every_seed_sample_round_trips() {
    round_trips::<WireMessage>("TIMMsgSendNewMsg");
    round_trips::<Vec<String>>("TIMMsgFindMessages");
    round_trips::<Vec<MsgLocator>>("TIMMsgFindByMsgLocatorList");
    round_trips::<Vec<WireMessage>>("TIMMsgImportMsgList");
    round_trips::<MsgGetMsgListParam>("TIMMsgGetMsgList");
    round_trips::<MsgDeleteParam>("TIMMsgDelete");
    round_trips::<Vec<WireMessage>>("TIMMsgListDelete");
    round_trips::<Vec<GetC2CRecvMsgOptResult>>("TIMMsgGetC2CReceiveMessageOpt");
    round_trips::<MessageSearchParam>("TIMMsgSearchLocalMessages");
    round_trips::<MsgBatchSendParam>("TIMMsgBatchSend");
}

/// The `TIMMsgSendMessage` sample misses a comma after its first key, which no JSON reader
/// (jsoncpp included) accepts; with the comma, it parses, and its `message_id` key (which the
/// SDK does not define) survives as an unknown key.
#[test]
fn the_send_message_sample_needs_its_missing_comma() {
    let text = fixture("TIMMsgSendMessage");
    assert!(lenient::from_str::<WireMessage>(&text).is_err());
    let fixed = text.replacen("45598731\"\n", "45598731\",\n", 1);
    let parsed: WireMessage = lenient::from_str(&fixed).expect("fixed sample parses");
    assert_eq!(parsed.extra["message_id"], "14400111550110000_1551446728_45598731");
    let out = serde_json::to_value(&parsed).unwrap();
    assert!(contains(&out, &serde_json::from_str(&fixed).unwrap()));
}

/// Version spellings: V7 keys are read, the seed's are written.
#[test]
fn both_version_spellings_parse_and_the_seed_spelling_is_written() {
    let v7 = r#"{"msg_getmsglist_param_is_ramble": true}"#;
    let p: MsgGetMsgListParam = serde_json::from_str(v7).unwrap();
    assert_eq!(p.msg_getmsglist_param_is_ramble, Some(true));
    assert!(serde_json::to_string(&p).unwrap().contains("msg_getmsglist_param_is_remble"));
    let d: MsgDeleteParam = serde_json::from_str(r#"{"msg_delete_param_is_ramble": true}"#).unwrap();
    assert!(serde_json::to_string(&d).unwrap().contains("msg_delete_param_is_remble"));
    let s: MessageSearchParam = serde_json::from_str(r#"{"msg_search_param_send_identifier_array": ["a"]}"#).unwrap();
    assert!(serde_json::to_string(&s).unwrap().contains("msg_search_param_send_indentifier_array"));
    let m: WireMessage =
        serde_json::from_str(r#"{"message_offline_push_config": {"offline_push_config_desc": "d"}}"#).unwrap();
    assert!(serde_json::to_string(&m).unwrap().contains("message_offlie_push_config"));
}

/// A C2C call through the dispatcher.
async fn c2c(s: &std::sync::Arc<timsg::Session>, api: &str, peer: &str, json: &str) -> timsg::dispatch::DispatchResult {
    let call = timsg::dispatch::ApiCall { api, conv_id: Some(peer), conv_type: 1, json, opt: 0, path: None };
    timsg::dispatch::dispatch(s, &call).await
}

/// Unknown keys of a message and of its elements survive a trip through the store.
#[tokio::test]
async fn unknown_keys_survive_send_store_and_reload() {
    let dir = tempfile::tempdir().unwrap();
    let config =
        timsg::RuntimeConfig { data_dir: dir.path().into(), durability: timsg::Durability::Os, ..Default::default() };
    let rt = timsg::Runtime::open(config.clone()).unwrap();
    let alice = std::sync::Arc::new(rt.login("alice").unwrap());
    let msg = serde_json::json!({
        "message_elem_array": [{"elem_type": 0, "text_elem_content": "hi", "text_elem_future_key": {"x": 1}}],
        "message_future_key": [1, 2, 3],
        "message_sender_profile": {"user_profile_nick_name": "Al"},
        "message_offline_push_config": {"offline_push_config_desc": "push me", "offline_push_config_flag": 0}
    });
    let r = c2c(&alice, "TIMMsgSendMessage", "bob", &msg.to_string()).await;
    assert_eq!(r.code, 0, "{}", r.desc);
    // Element types a newer SDK may have (or backend-only ones) are not sent, as the SDK
    // refuses them; a message holding them can still be saved locally, keys and all.
    let newer = serde_json::json!({
        "message_msg_id": "from-a-newer-sdk",
        "message_elem_array": [
            {"elem_type": 10, "friend_change_elem_change_type": 1, "friend_change_elem_friend_add_identifier_array": ["z"]},
            {"elem_type": 42, "brand_new_elem_key": "kept"}
        ]
    });
    assert_eq!(c2c(&alice, "TIMMsgSendMessage", "bob", &newer.to_string()).await.code, 6016);
    let r = c2c(&alice, "TIMMsgSaveMsg", "bob", &newer.to_string()).await;
    assert_eq!(r.code, 0, "{}", r.desc);
    drop(alice);
    rt.shutdown();

    let rt = timsg::Runtime::open(config).unwrap();
    let history = async |user: &str, peer: &str| {
        let session = std::sync::Arc::new(rt.login(user).unwrap());
        let r = c2c(&session, "TIMMsgGetMsgList", peer, "").await;
        serde_json::from_str::<Value>(&r.json_params).unwrap()
    };
    let got = history("bob", "alice").await;
    let m = &got[0];
    assert_eq!(m["message_future_key"], serde_json::json!([1, 2, 3]));
    assert_eq!(m["message_sender_profile"]["user_profile_nick_name"], "Al");
    assert_eq!(m["message_offlie_push_config"]["offline_push_config_desc"], "push me");
    assert_eq!(m["message_elem_array"][0]["text_elem_future_key"]["x"], 1);
    let mine = history("alice", "bob").await;
    let saved = mine.as_array().unwrap().iter().find(|m| m["message_msg_id"] == "from-a-newer-sdk").expect("saved");
    assert_eq!(saved["message_elem_array"][0]["elem_type"], 10);
    assert_eq!(saved["message_elem_array"][0]["friend_change_elem_friend_add_identifier_array"][0], "z");
    assert_eq!(saved["message_elem_array"][1], serde_json::json!({"elem_type": 42, "brand_new_elem_key": "kept"}));
    rt.shutdown();
}
