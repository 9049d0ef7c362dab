//! The TIM server REST API v4 over real HTTP (`/v4/openim/sendmsg`, `batchsendmsg`): requests
//! and replies as the REST API documents them, always HTTP 200, and the cross-check — what a
//! bot sends over REST is what a C SDK user sees on its WebSocket and in its history.

mod common;

use common::service::*;
use serde_json::{Value, json};

fn text_msg(from: Option<&str>, to: Value, random: u32, text: &str) -> Value {
    let mut m = json!({"To_Account": to, "MsgRandom": random, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]});
    if let Some(f) = from {
        m["From_Account"] = f.into();
    }
    m
}

async fn history(s: &TestService, user: &str, peer: &str) -> Vec<Value> {
    let (_, r) = post(
        s,
        user,
        "TIMMsgGetMsgList",
        json!({"conv_id": peer, "conv_type": 1, "param": {"msg_getmsglist_param_count": 20}}),
    )
    .await;
    assert_eq!(r["code"], 0, "{r}");
    r["json_params"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sendmsg_reaches_the_receiver_as_a_c_sdk_message() {
    let s = TestService::start();
    let mut bob = connect(&s, "bob", None).await;
    let r = admin(&s, "openim/sendmsg", text_msg(Some("alice"), json!("bob"), 7, "from the bot")).await;
    assert_eq!(
        (r["ActionStatus"].as_str(), r["ErrorCode"].as_i64(), r["ErrorInfo"].as_str()),
        (Some("OK"), Some(0), Some(""))
    );
    let time = r["MsgTime"].as_u64().unwrap();
    // On bob's WebSocket and in his history, as a C SDK user sees it: from alice, seq 1.
    assert_eq!(next_texts(&mut bob).await.1, ["from the bot"]);
    let seen = history(&s, "bob", "alice").await;
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0]["message_sender"].as_str(), seen[0]["message_seq"].as_u64()), (Some("alice"), Some(1)));
    assert_eq!(seen[0]["message_server_time"].as_u64(), Some(time));
    let rand = seen[0]["message_rand"].as_u64().unwrap();
    assert_eq!(r["MsgKey"], format!("1_{rand}_{time}"), "<seq>_<random>_<time>");
    // The same MsgRandom (and MsgSeq) from the same sender is the same message: not stored twice.
    let again = admin(&s, "openim/sendmsg", text_msg(Some("alice"), json!("bob"), 7, "from the bot")).await;
    assert_eq!(again["MsgKey"], r["MsgKey"]);
    assert_eq!(history(&s, "bob", "alice").await.len(), 1);
    // Without From_Account the admin sends; CloudCustomData, face, location and custom elements
    // come through; MsgLifeTime 0 is online only (not stored).
    let mut rich = text_msg(None, json!("bob"), 8, "hello");
    rich["CloudCustomData"] = "cc".into();
    rich["OfflinePushInfo"] = json!({"PushFlag": 0, "Desc": "ignored here"});
    rich["MsgBody"].as_array_mut().unwrap().extend([
        json!({"MsgType": "TIMFaceElem", "MsgContent": {"Index": 1, "Data": "wink"}}),
        json!({"MsgType": "TIMCustomElem", "MsgContent": {"Data": "{\"order\":1}", "Desc": "an order"}}),
    ]);
    assert_eq!(admin(&s, "openim/sendmsg", rich).await["ErrorCode"], 0);
    let from_admin = history(&s, "bob", "administrator").await;
    assert_eq!(from_admin[0]["message_cloud_custom_str"], "cc");
    let elems = &from_admin[0]["message_elem_array"];
    assert_eq!(
        (elems[1]["elem_type"].as_i64(), elems[2]["custom_elem_data"].as_str()),
        (Some(6), Some("{\"order\":1}"))
    );
    let mut online = text_msg(Some("carol"), json!("bob"), 9, "now or never");
    online["MsgLifeTime"] = 0.into();
    assert_eq!(admin(&s, "openim/sendmsg", online).await["ErrorCode"], 0);
    assert!(history(&s, "bob", "carol").await.is_empty(), "online-only messages are not stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batchsendmsg_fans_out_and_reports_failures() {
    let s = TestService::start();
    let r = admin(&s, "openim/batchsendmsg", text_msg(Some("bot"), json!(["u1", "u2", "u3"]), 5, "news")).await;
    assert_eq!((r["ActionStatus"].as_str(), r["ErrorCode"].as_i64()), (Some("OK"), Some(0)), "{r}");
    assert!(r["MsgKey"].as_str().unwrap().starts_with("1_"), "{r}");
    assert!(r.get("ErrorList").is_none(), "{r}");
    for u in ["u1", "u2", "u3"] {
        let h = history(&s, u, "bot").await;
        assert_eq!(h[0]["message_elem_array"][0]["text_elem_content"], "news", "{u}");
    }
    let many: Vec<String> = (0..501).map(|i| format!("r{i}")).collect();
    let r = admin(&s, "openim/batchsendmsg", text_msg(None, json!(many), 6, "x")).await;
    assert_eq!((r["ActionStatus"].as_str(), r["ErrorCode"].as_i64()), (Some("FAIL"), Some(90011)), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_protocol_refuses_with_its_codes_and_always_http_200() {
    let s = TestService::start();
    let body = text_msg(None, json!("bob"), 1, "x").to_string();
    let code = |r: &Value| (r["ActionStatus"].as_str().map(str::to_string), r["ErrorCode"].as_i64());
    let fail = |c: i64| (Some("FAIL".to_string()), Some(c));
    let cases: Vec<(String, &str, i64)> = vec![
        (format!("identifier=administrator&usersig={}", sig("administrator")), "openim/sendmsg", 60012),
        (format!("sdkappid=1&identifier=administrator&usersig={}", sig("administrator")), "openim/sendmsg", 70014),
        (format!("sdkappid={APP}&identifier=alice&usersig={}", sig("alice")), "openim/sendmsg", 60010),
        (format!("sdkappid={APP}&identifier=administrator&usersig=garbage"), "openim/sendmsg", 70003),
        (format!("sdkappid={APP}&identifier=administrator&usersig={}", sig("alice")), "openim/sendmsg", 70013),
        (format!("sdkappid={APP}&identifier=administrator"), "openim/sendmsg", 70002),
        (admin_query(), "openim/no_such_command", 60009),
    ];
    for (query, command, want) in cases {
        let (status, r) = rest(&s, command, &query, &body).await;
        assert_eq!((status, code(&r)), (200, fail(want)), "{query} {command}: {r}");
    }
    let bodies = [
        ("{not json", 90001),
        (r#"{"To_Account":"bob","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}"#, 90005),
        (r#"{"MsgRandom":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}"#, 90003),
        (r#"{"To_Account":"bob","MsgRandom":1,"MsgBody":{"MsgType":"TIMTextElem"}}"#, 90007),
        (r#"{"To_Account":"bob","MsgRandom":1,"MsgBody":[{"MsgType":"TIMNoSuchElem","MsgContent":{}}]}"#, 90002),
        (
            r#"{"To_Account":"bob","MsgRandom":1,"MsgLifeTime":604801,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}"#,
            90026,
        ),
        (
            r#"{"To_Account":"bob","MsgRandom":1,"SyncOtherMachine":"yes","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}"#,
            90031,
        ),
        (
            r#"{"To_Account":"../x","MsgRandom":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}"#,
            90003,
        ),
        (
            r#"{"From_Account":"@TIM#SYSTEM","To_Account":"bob","MsgRandom":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}"#,
            90008,
        ),
    ];
    for (body, want) in bodies {
        let (status, r) = rest(&s, "openim/sendmsg", &admin_query(), body).await;
        assert_eq!((status, code(&r)), (200, fail(want)), "{body}: {r}");
    }
    let long = text_msg(None, json!("bob"), 2, &"x".repeat(13 * 1024));
    let r = admin(&s, "openim/sendmsg", long).await;
    assert_eq!(code(&r), fail(80002), "{r}");
    assert!(history(&s, "bob", "administrator").await.is_empty(), "nothing refused was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_recall_read_and_unread_through_rest_match_the_c_api() {
    let s = TestService::start();
    let mut bob = connect(&s, "bob", None).await;
    // Sent with the C API's call (over /v1), listed by admin_getroammsg.
    for i in 1..=5 {
        send_text(&s, "alice", "bob", &format!("c api {i}")).await;
    }
    let page = |max: u64, last: Option<&str>| {
        let mut b = json!({"Operator_Account": "bob", "Peer_Account": "alice", "MaxCnt": max, "MinTime": 0, "MaxTime": now() + 60});
        if let Some(k) = last {
            b["LastMsgKey"] = k.into();
        }
        b
    };
    let first = admin(&s, "openim/admin_getroammsg", page(3, None)).await;
    assert_eq!(
        (first["ErrorCode"].as_i64(), first["Complete"].as_i64(), first["MsgCnt"].as_i64()),
        (Some(0), Some(0), Some(3)),
        "{first}"
    );
    let texts = |r: &Value| -> Vec<String> {
        r["MsgList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["MsgBody"][0]["MsgContent"]["Text"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(texts(&first), ["c api 3", "c api 4", "c api 5"], "the newest, oldest first");
    let m = &first["MsgList"][0];
    assert_eq!(
        (m["From_Account"].as_str(), m["To_Account"].as_str(), m["MsgSeq"].as_i64(), m["MsgFlagBits"].as_i64()),
        (Some("alice"), Some("bob"), Some(3), Some(0))
    );
    assert_eq!(first["LastMsgKey"], m["MsgKey"]);
    let rest = admin(&s, "openim/admin_getroammsg", page(3, first["LastMsgKey"].as_str())).await;
    assert_eq!(
        (rest["Complete"].as_i64(), texts(&rest)),
        (Some(1), vec!["c api 1".to_string(), "c api 2".to_string()]),
        "{rest}"
    );
    let none = admin(
        &s,
        "openim/admin_getroammsg",
        json!({"Operator_Account": "bob", "Peer_Account": "alice", "MaxCnt": 5, "MinTime": 0, "MaxTime": 1}),
    )
    .await;
    assert_eq!((none["Complete"].as_i64(), none["MsgCnt"].as_i64()), (Some(1), Some(0)), "{none}");

    // Unread: bob has read nothing of alice's five; reading up to now clears them.
    let unread = admin(
        &s,
        "openim/get_c2c_unread_msg_num",
        json!({"To_Account": "bob", "Peer_Account": ["alice", "nobody", "../x"]}),
    )
    .await;
    assert_eq!(
        unread["C2CUnreadMsgNumList"],
        json!([{"Peer_Account": "alice", "C2CUnreadMsgNum": 5}, {"Peer_Account": "nobody", "C2CUnreadMsgNum": 0}]),
        "{unread}"
    );
    assert_eq!(unread["ErrorList"][0]["ErrorCode"], 70107, "{unread}");
    assert_eq!(admin(&s, "openim/get_c2c_unread_msg_num", json!({"To_Account": "bob"})).await["AllC2CUnreadMsgNum"], 5);
    assert_eq!(
        admin(&s, "openim/admin_set_msg_read", json!({"Report_Account": "bob", "Peer_Account": "alice"})).await["ErrorCode"],
        0
    );
    assert_eq!(admin(&s, "openim/get_c2c_unread_msg_num", json!({"To_Account": "bob"})).await["AllC2CUnreadMsgNum"], 0);

    // Recall by MsgKey, however old: bob hears a revoke, and the message is flagged recalled.
    let key = m["MsgKey"].as_str().unwrap().to_string();
    let r = admin(&s, "openim/admin_msgwithdraw", json!({"From_Account": "alice", "To_Account": "bob", "MsgKey": key}))
        .await;
    assert_eq!(r["ErrorCode"], 0, "{r}");
    loop {
        let e = next_event(&mut bob).await;
        if e["event"] == "MsgRevoke" {
            break;
        }
    }
    let after = admin(&s, "openim/admin_getroammsg", page(5, None)).await;
    let recalled = after["MsgList"].as_array().unwrap().iter().find(|x| x["MsgKey"] == key).expect("still listed");
    assert_eq!(recalled["MsgFlagBits"], 8, "{after}");
    let again =
        admin(&s, "openim/admin_msgwithdraw", json!({"From_Account": "alice", "To_Account": "bob", "MsgKey": key}))
            .await;
    assert_eq!(again["ErrorCode"], 20023, "{again}");
    for (bad, want) in [("nonsense", 90054), ("99_1_1", 20022)] {
        let r =
            admin(&s, "openim/admin_msgwithdraw", json!({"From_Account": "alice", "To_Account": "bob", "MsgKey": bad}))
                .await;
        assert_eq!(r["ErrorCode"], want, "{bad}: {r}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_state_and_the_openapi_description_of_every_command() {
    let s = TestService::start();
    let _bob = connect(&s, "bob", None).await;
    for command in ["openim/querystate", "openim/query_online_status"] {
        let r = admin(&s, command, json!({"To_Account": ["bob", "carol", "../x"]})).await;
        assert_eq!(r["ErrorCode"], 0, "{r}");
        assert_eq!(
            r["QueryResult"],
            json!([{"To_Account": "bob", "Status": "Online", "State": "Online"}, {"To_Account": "carol", "Status": "Offline", "State": "Offline"}]),
            "{command}: {r}"
        );
        assert_eq!(r["ErrorList"][0]["ErrorCode"], 70107, "{r}");
    }
    let doc = json_of(reqwest::get(s.url("/v1/openapi.json")).await.unwrap()).await;
    let paths = doc["paths"].as_object().unwrap();
    let documented: Vec<&String> = paths.keys().filter(|p| p.starts_with("/v4/")).collect();
    assert_eq!(documented.len(), timsg::service::rest_v4::COMMANDS.len());
    for path in documented {
        // Served: an empty body as the admin gets the command's own complaint, not 60009.
        let (status, r) = rest(&s, path.trim_start_matches("/v4/"), &admin_query(), "{}").await;
        assert_eq!(status, 200);
        assert!(r["ErrorCode"] != 60009 && r["ActionStatus"].is_string(), "{path}: {r}");
        assert_eq!(
            paths[path]["post"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/RestReply"
        );
    }
}

/// The next event frame whose JSON text holds `needle`.
async fn event_with(ws: &mut Ws, needle: &str) -> Value {
    loop {
        let e = next_event(ws).await;
        if e.to_string().contains(needle) {
            return e;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_are_created_filled_listed_emptied_and_dismissed_over_rest() {
    let s = TestService::start();
    let code = |r: &Value| r["ErrorCode"].as_i64().unwrap();
    let club = json!({"Type": "Public", "Name": "Club", "Owner_Account": "alice", "GroupId": "club",
        "Introduction": "we meet", "MaxMemberCount": 4, "ApplyJoinOption": "FreeAccess",
        "MemberList": [{"Member_Account": "bob", "Role": "Admin"}, {"Member_Account": "carol"}]});
    let r = admin(&s, "group_open_http_svc/create_group", club.clone()).await;
    assert_eq!((code(&r), r["GroupId"].as_str()), (0, Some("club")), "{r}");
    // The ID taken: by the same owner 10025, by another 10021.
    assert_eq!(code(&admin(&s, "group_open_http_svc/create_group", club.clone()).await), 10025);
    let mut other = club.clone();
    other["Owner_Account"] = "zed".into();
    assert_eq!(code(&admin(&s, "group_open_http_svc/create_group", other).await), 10021);
    // No ID: one is made; no owner: the admin owns it.
    let made = admin(&s, "group_open_http_svc/create_group", json!({"Type": "Work", "Name": "Ops"})).await;
    let made_id = made["GroupId"].as_str().unwrap().to_string();
    assert!(made_id.starts_with("@TGS#"), "{made}");
    for (bad, why) in [
        (json!({"Type": "Nope", "Name": "x"}), "type"),
        (json!({"Type": "Public", "Name": "x".repeat(31)}), "name over 30 bytes"),
        (json!({"Type": "Public", "Name": "x", "GroupId": "@TGS#mine"}), "made-ID prefix"),
        (json!({"Type": "Public", "Name": "x", "Owner_Account": "../x"}), "owner"),
        (json!({"Type": "AVChatRoom", "Name": "x", "MemberList": [{"Member_Account": "bob"}]}), "live members"),
    ] {
        assert_eq!(code(&admin(&s, "group_open_http_svc/create_group", bad).await), 10004, "{why}");
    }

    // Added: 1 new, 2 a member already, 0 not a user; past MaxMemberCount 10014.
    let r = admin(
        &s,
        "group_open_http_svc/add_group_member",
        json!({"GroupId": "club", "MemberList": [{"Member_Account": "dave"}, {"Member_Account": "bob"}, {"Member_Account": "../x"}]}),
    )
    .await;
    assert_eq!(
        r["MemberList"],
        json!([{"Member_Account": "dave", "Result": 1}, {"Member_Account": "bob", "Result": 2}, {"Member_Account": "../x", "Result": 0}]),
        "{r}"
    );
    let full = json!({"GroupId": "club", "MemberList": [{"Member_Account": "erin"}]});
    assert_eq!(code(&admin(&s, "group_open_http_svc/add_group_member", full).await), 10014);

    let info = admin(&s, "group_open_http_svc/get_group_info", json!({"GroupIdList": ["club", "missing"]})).await;
    let club_info = &info["GroupInfo"][0];
    assert_eq!(
        (club_info["ErrorCode"].as_i64(), club_info["Name"].as_str(), club_info["Owner_Account"].as_str()),
        (Some(0), Some("Club"), Some("alice")),
        "{info}"
    );
    assert_eq!(
        (club_info["Type"].as_str(), club_info["MemberNum"].as_u64(), club_info["MaxMemberNum"].as_u64()),
        (Some("Public"), Some(4), Some(4))
    );
    assert_eq!(
        (club_info["Introduction"].as_str(), club_info["ApplyJoinOption"].as_str()),
        (Some("we meet"), Some("FreeAccess"))
    );
    let roles: Vec<(String, String)> = club_info["MemberList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["Member_Account"].as_str().unwrap().into(), m["Role"].as_str().unwrap().into()))
        .collect();
    let role = |u: &str| roles.iter().find(|(m, _)| m == u).map(|(_, r)| r.as_str());
    assert_eq!(
        (role("alice"), role("bob"), role("carol"), role("dave")),
        (Some("Owner"), Some("Admin"), Some("Member"), Some("Member"))
    );
    assert_eq!(info["GroupInfo"][1]["ErrorCode"], 10010, "{info}");
    let filtered = admin(
        &s,
        "group_open_http_svc/get_group_info",
        json!({"GroupIdList": ["club"], "ResponseFilter": {"GroupBaseInfoFilter": ["Name"]}}),
    )
    .await;
    let item = filtered["GroupInfo"][0].as_object().unwrap();
    assert!(
        item.contains_key("Name") && !item.contains_key("Owner_Account") && !item.contains_key("MemberList"),
        "{filtered}"
    );

    let joined = admin(
        &s,
        "group_open_http_svc/get_joined_group_list",
        json!({"Member_Account": "bob", "ResponseFilter": {"GroupBaseInfoFilter": ["Type"], "SelfInfoFilter": ["Role"]}}),
    )
    .await;
    assert_eq!(joined["TotalCount"], 1, "{joined}");
    assert_eq!(joined["GroupIdList"], json!([{"GroupId": "club", "Type": "Public", "SelfInfo": {"Role": "Admin"}}]));
    let admins =
        admin(&s, "group_open_http_svc/get_joined_group_list", json!({"Member_Account": "administrator", "Limit": 5}))
            .await;
    assert_eq!(admins["GroupIdList"], json!([{"GroupId": made_id}]), "{admins}");

    // Removed: carol, and nobody (no member: still a success); the owner cannot be.
    let r = admin(
        &s,
        "group_open_http_svc/delete_group_member",
        json!({"GroupId": "club", "MemberToDel_Account": ["carol", "nobody"], "Reason": "quiet"}),
    )
    .await;
    assert_eq!(code(&r), 0, "{r}");
    let owner_out = json!({"GroupId": "club", "MemberToDel_Account": ["alice"]});
    assert_eq!(code(&admin(&s, "group_open_http_svc/delete_group_member", owner_out).await), 10007);
    // As a C SDK user, carol is out: her group message is refused.
    let (_, sent) = post(
        &s,
        "carol",
        "TIMMsgSendMessage",
        json!({"conv_id": "club", "conv_type": 2, "param": {"message_elem_array": [{"elem_type": 0, "text_elem_content": "still here?"}]}}),
    )
    .await;
    assert_eq!(sent["code"], 10007, "{sent}");
    let info = admin(&s, "group_open_http_svc/get_group_info", json!({"GroupIdList": ["club"]})).await;
    assert_eq!(info["GroupInfo"][0]["MemberNum"], 3, "{info}");

    assert_eq!(code(&admin(&s, "group_open_http_svc/destroy_group", json!({"GroupId": "club"})).await), 0);
    assert_eq!(code(&admin(&s, "group_open_http_svc/destroy_group", json!({"GroupId": "club"})).await), 10010);
    let gone = admin(&s, "group_open_http_svc/get_group_info", json!({"GroupIdList": ["club"]})).await;
    assert_eq!(gone["GroupInfo"][0]["ErrorCode"], 10010, "{gone}");
    let none = admin(&s, "group_open_http_svc/get_joined_group_list", json!({"Member_Account": "bob"})).await;
    assert_eq!((none["TotalCount"].as_u64(), none["GroupIdList"].as_array().map(Vec::len)), (Some(0), Some(0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_messages_sent_recalled_and_listed_over_rest_are_the_c_sdk_users_messages() {
    let s = TestService::start();
    let code = |r: &Value| r["ErrorCode"].as_i64().unwrap();
    let room = json!({"Type": "Private", "Name": "Room", "Owner_Account": "alice", "GroupId": "room",
        "MemberList": [{"Member_Account": "bob"}]});
    assert_eq!(code(&admin(&s, "group_open_http_svc/create_group", room).await), 0);
    let mut bob = connect(&s, "bob", None).await;
    let say = |from: Option<&str>, random: u32, text: &str| {
        let mut m = json!({"GroupId": "room", "Random": random, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]});
        if let Some(f) = from {
            m["From_Account"] = f.into();
        }
        m
    };
    let first = admin(&s, "group_open_http_svc/send_group_msg", say(Some("alice"), 1, "hello room")).await;
    assert_eq!(code(&first), 0, "{first}");
    let seq = first["MsgSeq"].as_u64().unwrap();
    assert!(first["MsgTime"].as_u64().unwrap() > 0);
    event_with(&mut bob, "hello room").await;
    // The same Random from the same sender is the same message.
    let again = admin(&s, "group_open_http_svc/send_group_msg", say(Some("alice"), 1, "hello room")).await;
    assert_eq!(again["MsgSeq"].as_u64(), Some(seq), "{again}");
    // The admin sends without being a member; a user who is not one may not.
    assert_eq!(code(&admin(&s, "group_open_http_svc/send_group_msg", say(None, 2, "from the bot")).await), 0);
    assert_eq!(
        code(&admin(&s, "group_open_http_svc/send_group_msg", say(Some("mallory"), 3, "let me in")).await),
        10007
    );
    assert_eq!(
        code(&admin(&s, "group_open_http_svc/send_group_msg", json!({"GroupId": "room", "MsgBody": []})).await),
        10004
    );
    let mut topic = say(Some("alice"), 4, "to a topic");
    topic["TopicId"] = "@TGS#_room@TOPIC#t1".into();
    assert_eq!(code(&admin(&s, "group_open_http_svc/send_group_msg", topic).await), 10004, "no topics here");
    // Bob's history through the C API's call: alice's and the admin's messages, as sent.
    let (_, h) = post(
        &s,
        "bob",
        "TIMMsgGetMsgList",
        json!({"conv_id": "room", "conv_type": 2, "param": {"msg_getmsglist_param_count": 20}}),
    )
    .await;
    let from_bot = h["json_params"].as_array().unwrap().iter().find(|m| m["message_sender"] == "administrator");
    assert_eq!(from_bot.unwrap()["message_elem_array"][0]["text_elem_content"], "from the bot", "{h}");
    // Bob writes with the C API; group_msg_get_simple lists all three, newest first, no tips.
    let (_, sent) = post(
        &s,
        "bob",
        "TIMMsgSendMessage",
        json!({"conv_id": "room", "conv_type": 2, "param": {"message_elem_array": [{"elem_type": 0, "text_elem_content": "bob here"}]}}),
    )
    .await;
    assert_eq!(sent["code"], 0, "{sent}");
    let simple = |number: u64, extra: Value| {
        let mut b = json!({"GroupId": "room", "ReqMsgNumber": number});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let listed = |r: &Value| -> Vec<(String, String)> {
        r["RspMsgList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["From_Account"].as_str().unwrap().into(),
                    m["MsgBody"][0]["MsgContent"]["Text"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let all = admin(&s, "group_open_http_svc/group_msg_get_simple", simple(20, json!({}))).await;
    assert_eq!(
        listed(&all),
        [
            ("bob".into(), "bob here".into()),
            ("administrator".into(), "from the bot".into()),
            ("alice".into(), "hello room".into())
        ],
        "{all}"
    );
    assert_eq!((all["IsFinished"].as_u64(), all["GroupId"].as_str()), (Some(1), Some("room")));
    let one = admin(&s, "group_open_http_svc/group_msg_get_simple", simple(1, json!({}))).await;
    assert_eq!((listed(&one).len(), one["IsFinished"].as_u64()), (1, Some(0)), "{one}");
    let upto = admin(&s, "group_open_http_svc/group_msg_get_simple", simple(20, json!({"ReqMsgSeq": seq}))).await;
    assert_eq!(listed(&upto), [("alice".to_string(), "hello room".to_string())], "{upto}");

    // Recalled by seq: bob hears the revoke; the message leaves the plain listing.
    let r = admin(
        &s,
        "group_open_http_svc/group_msg_recall",
        json!({"GroupId": "room", "MsgSeqList": [{"MsgSeq": seq}, {"MsgSeq": 999}]}),
    )
    .await;
    assert_eq!(r["RecallRetList"], json!([{"MsgSeq": seq, "RetCode": 0}, {"MsgSeq": 999, "RetCode": 10030}]), "{r}");
    event_with(&mut bob, "MsgRevoke").await;
    let after = admin(&s, "group_open_http_svc/group_msg_get_simple", simple(20, json!({}))).await;
    assert_eq!(listed(&after).len(), 2, "{after}");
    let with = admin(&s, "group_open_http_svc/group_msg_get_simple", simple(20, json!({"WithRecalledMsg": 1}))).await;
    assert_eq!(listed(&with).len(), 3, "{with}");

    // A system notice reaches the members as a GroupReport of the app's own type.
    let r = admin(
        &s,
        "group_open_http_svc/send_group_system_notification",
        json!({"GroupId": "room", "Content": "maintenance at 5"}),
    )
    .await;
    assert_eq!(code(&r), 0, "{r}");
    let notice = event_with(&mut bob, "maintenance at 5").await;
    assert!(notice.to_string().contains("\"group_report_elem_report_type\":16"), "{notice}");

    // Everything bob sent is recalled.
    let r = admin(
        &s,
        "group_open_http_svc/delete_group_msg_by_sender",
        json!({"GroupId": "room", "Sender_Account": "bob"}),
    )
    .await;
    assert_eq!(code(&r), 0, "{r}");
    let left = admin(&s, "group_open_http_svc/group_msg_get_simple", simple(20, json!({}))).await;
    assert_eq!(listed(&left), [("administrator".to_string(), "from the bot".to_string())], "{left}");
    let missing = json!({"GroupId": "nowhere", "Sender_Account": "bob"});
    assert_eq!(code(&admin(&s, "group_open_http_svc/delete_group_msg_by_sender", missing).await), 10010);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_elements_keep_their_urls_both_ways_and_reach_the_c_api_as_its_elements() {
    let s = TestService::start();
    let media = json!([
        {"MsgType": "TIMImageElem", "MsgContent": {"UUID": "img-1", "ImageFormat": 1, "ImageInfoArray": [
            {"Type": 1, "Size": 1000, "Width": 640, "Height": 480, "URL": "https://cdn.example.com/o.jpg"},
            {"Type": 3, "Size": 100, "Width": 64, "Height": 48, "URL": "https://cdn.example.com/t.jpg"}]}},
        {"MsgType": "TIMSoundElem", "MsgContent": {"Url": "https://cdn.example.com/a.m4a", "UUID": "snd-1", "Size": 2000, "Second": 3, "Download_Flag": 2}},
        {"MsgType": "TIMFileElem", "MsgContent": {"Url": "https://cdn.example.com/f.pdf", "UUID": "file-1", "FileSize": 3000, "FileName": "f.pdf", "Download_Flag": 2}},
        {"MsgType": "TIMVideoFileElem", "MsgContent": {"VideoUrl": "https://cdn.example.com/v.mp4", "VideoUUID": "vid-1", "VideoSize": 4000,
            "VideoSecond": 5, "VideoFormat": "mp4", "VideoDownloadFlag": 2, "ThumbUrl": "https://cdn.example.com/v.jpg", "ThumbUUID": "th-1",
            "ThumbSize": 50, "ThumbWidth": 32, "ThumbHeight": 24, "ThumbFormat": "JPG", "ThumbDownloadFlag": 2}}
    ]);
    let r = admin(
        &s,
        "openim/sendmsg",
        json!({"From_Account": "alice", "To_Account": "bob", "MsgRandom": 3, "MsgBody": media}),
    )
    .await;
    assert_eq!(r["ErrorCode"], 0, "{r}");
    // As the C API gives it to bob: its image, sound, file and video elements with those URLs.
    let seen = history(&s, "bob", "alice").await;
    let elems = &seen[0]["message_elem_array"];
    assert_eq!(
        (
            elems[0]["elem_type"].as_i64(),
            elems[0]["image_elem_orig_url"].as_str(),
            elems[0]["image_elem_thumb_pic_width"].as_i64()
        ),
        (Some(1), Some("https://cdn.example.com/o.jpg"), Some(64))
    );
    assert_eq!((elems[1]["elem_type"].as_i64(), elems[1]["sound_elem_file_time"].as_i64()), (Some(2), Some(3)));
    assert_eq!((elems[2]["elem_type"].as_i64(), elems[2]["file_elem_file_name"].as_str()), (Some(4), Some("f.pdf")));
    assert_eq!((elems[3]["elem_type"].as_i64(), elems[3]["video_elem_image_id"].as_str()), (Some(9), Some("th-1")));
    // Listed over REST exactly as sent.
    let roam = admin(
        &s,
        "openim/admin_getroammsg",
        json!({"Operator_Account": "bob", "Peer_Account": "alice", "MaxCnt": 5, "MinTime": 0, "MaxTime": now() + 60}),
    )
    .await;
    assert_eq!(roam["MsgList"][0]["MsgBody"], media, "{roam}");
    // Required keys and the one download flag the REST API takes.
    for bad in [
        json!([{"MsgType": "TIMImageElem", "MsgContent": {"ImageFormat": 1}}]),
        json!([{"MsgType": "TIMFileElem", "MsgContent": {"UUID": "f", "Url": "https://x/f", "Download_Flag": 1}}]),
        json!([{"MsgType": "TIMVideoFileElem", "MsgContent": {"VideoUrl": "https://x/v", "VideoUUID": "v"}}]),
    ] {
        let r = admin(&s, "openim/sendmsg", json!({"To_Account": "bob", "MsgRandom": 4, "MsgBody": bad})).await;
        assert_eq!(r["ErrorCode"], 90002, "{bad}: {r}");
    }
}

/// `TIMMsgGetMsgList` as alice with `usersig`.
async fn history_as_alice(s: &TestService, usersig: String) -> (u16, Value) {
    let headers = [("X-TIM-User", "alice".to_string()), ("X-TIM-UserSig", usersig)];
    post_as(s, "TIMMsgGetMsgList", &headers, json!({"conv_id": "bob", "conv_type": 1, "param": {}})).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_imported_checked_deleted_and_a_kick_revokes_old_usersigs() {
    let s = TestService::start();
    let code = |r: &Value| r["ErrorCode"].as_i64().unwrap();
    assert_eq!(code(&admin(&s, "im_open_login_svc/account_import", json!({"UserID": "alice", "Nick": "Al"})).await), 0);
    assert_eq!(
        code(&admin(&s, "im_open_login_svc/account_import", json!({"Identifier": "bob"})).await),
        0,
        "legacy key"
    );
    assert_eq!(code(&admin(&s, "im_open_login_svc/account_import", json!({"UserID": "../x"})).await), 70402);
    let long = json!({"UserID": "carl", "Nick": "n".repeat(501)});
    assert_eq!(code(&admin(&s, "im_open_login_svc/account_import", long).await), 40601);
    let r = admin(&s, "im_open_login_svc/multiaccount_import", json!({"Accounts": ["c1", "c2", "../x"]})).await;
    assert_eq!(r["FailAccounts"], json!(["../x"]), "{r}");
    let many: Vec<String> = (0..101).map(|i| format!("m{i}")).collect();
    assert_eq!(code(&admin(&s, "im_open_login_svc/multiaccount_import", json!({"Accounts": many})).await), 70206);
    let check = |ids: &[&str]| json!({"CheckItem": ids.iter().map(|u| json!({"UserID": u})).collect::<Vec<_>>()});
    let r = admin(&s, "im_open_login_svc/account_check", check(&["alice", "c1", "zed"])).await;
    let status: Vec<&str> =
        r["ResultItem"].as_array().unwrap().iter().map(|i| i["AccountStatus"].as_str().unwrap()).collect();
    assert_eq!(status, ["Imported", "Imported", "NotImported"], "{r}");
    let r = admin(&s, "im_open_login_svc/account_delete", json!({"DeleteItem": [{"UserID": "c1"}, {"UserID": "zed"}]}))
        .await;
    let codes: Vec<i64> =
        r["ResultItem"].as_array().unwrap().iter().map(|i| i["ResultCode"].as_i64().unwrap()).collect();
    assert_eq!(codes, [0, 70107], "{r}");
    let r = admin(&s, "im_open_login_svc/account_check", check(&["c1"])).await;
    assert_eq!(r["ResultItem"][0]["AccountStatus"], "NotImported", "{r}");

    // A kick: alice's socket, opened with a UserSig made before it, closes; that UserSig is
    // refused (70052) from then on; a new one logs in.
    let old = timsg::auth::usersig::generate(APP, KEY, "alice", 3600, now() - 30);
    let url = format!("ws://{}/v1/events?user=alice&usersig={old}", s.addr);
    let mut ws = tokio_tungstenite::connect_async(url).await.expect("connects").0;
    assert_eq!(history_as_alice(&s, old.clone()).await.0, 200, "before the kick");
    assert_eq!(code(&admin(&s, "im_open_login_svc/kick", json!({"UserID": "alice"})).await), 0);
    let closed = loop {
        use futures_util::StreamExt;
        match tokio::time::timeout(std::time::Duration::from_secs(10), ws.next()).await.expect("the socket ends") {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("no close frame: {other:?}"),
        }
    };
    assert!(closed.unwrap().reason.contains("kicked"));
    let (status, refused) = history_as_alice(&s, old).await;
    assert_eq!((status, refused["code"].as_i64()), (401, Some(70052)), "{refused}");
    assert_eq!(history_as_alice(&s, sig("alice")).await.0, 200, "a new UserSig works");
    // The revocation is stored, so it holds after a restart (the service reads it at start).
    let floors = s.state.runtime.engine().sig_floors().unwrap();
    assert!(floors.iter().any(|(u, t)| u == "alice" && Some(*t) == s.state.sigs_valid_from("alice")), "{floors:?}");
    assert_eq!(code(&admin(&s, "im_open_login_svc/kick", json!({})).await), 70402);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_messages_join_the_history_at_their_own_times() {
    let s = TestService::start();
    let code = |r: &Value| r["ErrorCode"].as_i64().unwrap();
    let t = now();
    let import = |sync: u64, seq: u64, random: u64, time: u64, text: &str| {
        json!({"SyncFromOldSystem": sync, "From_Account": "alice", "To_Account": "bob", "MsgSeq": seq, "MsgRandom": random,
            "MsgTimeStamp": time, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]})
    };
    let mut bob = connect(&s, "bob", None).await;
    // History (2): stored at its time, read, delivered to no one; again, kept once.
    assert_eq!(code(&admin(&s, "openim/importmsg", import(2, 1, 11, t - 3600, "from the old system")).await), 0);
    assert_eq!(code(&admin(&s, "openim/importmsg", import(2, 1, 11, t - 3600, "from the old system")).await), 0);
    // Live (1): delivered, unread.
    assert_eq!(code(&admin(&s, "openim/importmsg", import(1, 2, 12, t - 1800, "live import")).await), 0);
    assert_eq!(next_texts(&mut bob).await.1, ["live import"], "the history import reached no stream");
    let seen = history(&s, "bob", "alice").await;
    let times: Vec<u64> = seen.iter().map(|m| m["message_server_time"].as_u64().unwrap()).collect();
    assert_eq!(times, [t - 1800, t - 3600], "newest first, at their own times, once each");
    let unread = admin(&s, "openim/get_c2c_unread_msg_num", json!({"To_Account": "bob"})).await;
    assert_eq!(unread["AllC2CUnreadMsgNum"], 1, "only the live one: {unread}");
    let roam = admin(
        &s,
        "openim/admin_getroammsg",
        json!({"Operator_Account": "alice", "Peer_Account": "bob", "MaxCnt": 10, "MinTime": 0, "MaxTime": t + 60}),
    )
    .await;
    assert_eq!(roam["MsgList"][0]["MsgTimeStamp"], t - 3600, "{roam}");
    for (bad, want) in [
        (import(2, 3, 13, t - 7200, "older than the newest"), 90006),
        (import(2, 3, 13, t + 3600, "from the future"), 90006),
        (import(3, 3, 13, t, "unknown sync"), 90030),
        (
            json!({"SyncFromOldSystem": 1, "From_Account": "alice", "To_Account": "bob", "MsgRandom": 1, "MsgBody": []}),
            90006,
        ),
    ] {
        assert_eq!(code(&admin(&s, "openim/importmsg", bad.clone()).await), want, "{bad}");
    }

    // Group: at or after the group's creation, in time order; each item has its result.
    let room = json!({"Type": "Public", "Name": "Old", "Owner_Account": "alice", "GroupId": "old", "MemberList": [{"Member_Account": "bob"}]});
    assert_eq!(code(&admin(&s, "group_open_http_svc/create_group", room).await), 0);
    let info = admin(&s, "group_open_http_svc/get_group_info", json!({"GroupIdList": ["old"]})).await;
    let created = info["GroupInfo"][0]["CreateTime"].as_u64().unwrap();
    let item = |from: &str, time: u64, text: &str| json!({"From_Account": from, "SendTime": time, "Random": 5, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]});
    let r = admin(
        &s,
        "group_open_http_svc/import_group_msg",
        json!({"GroupId": "old", "MsgList": [item("alice", created, "first"), item("carol", created, "second"),
            item("alice", created - 10, "before the group"), item("alice", now() + 3600, "later")]}),
    )
    .await;
    let results: Vec<i64> =
        r["ImportMsgResult"].as_array().unwrap().iter().map(|i| i["Result"].as_i64().unwrap()).collect();
    assert_eq!(results, [0, 0, 10004, 10004], "{r}");
    let seqs: Vec<u64> =
        r["ImportMsgResult"].as_array().unwrap()[..2].iter().map(|i| i["MsgSeq"].as_u64().unwrap()).collect();
    assert!(seqs[0] < seqs[1], "{r}");
    let simple =
        admin(&s, "group_open_http_svc/group_msg_get_simple", json!({"GroupId": "old", "ReqMsgNumber": 5})).await;
    let texts: Vec<&str> = simple["RspMsgList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["MsgBody"][0]["MsgContent"]["Text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["second", "first"], "{simple}");
    let too_many =
        json!({"GroupId": "old", "MsgList": (0..8).map(|_| item("alice", created, "x")).collect::<Vec<_>>()});
    assert_eq!(code(&admin(&s, "group_open_http_svc/import_group_msg", too_many).await), 10004);
    let nowhere = json!({"GroupId": "nowhere", "MsgList": [item("alice", created, "x")]});
    assert_eq!(code(&admin(&s, "group_open_http_svc/import_group_msg", nowhere).await), 10010);
}
