//! The minimal group module: create, join, quit, invite, kick, dismiss, set admin, with the
//! GroupTips and GroupReport messages the backend would emit, and the permission rules.

mod common;

use common::*;
use timsg::{Event, TimError};
use timsg_actors::group::{GroupAddOption, GroupKind};

fn tips_of(v: &serde_json::Value) -> Vec<(u64, Vec<String>)> {
    v.as_array()
        .unwrap()
        .iter()
        .filter(|m| m["message_elem_array"][0]["elem_type"] == 5)
        .map(|m| {
            let e = &m["message_elem_array"][0];
            let users = e["group_tips_elem_user_array"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u.as_str().unwrap().to_string())
                .collect();
            (e["group_tips_elem_tip_type"].as_u64().unwrap(), users)
        })
        .collect()
}

#[tokio::test]
async fn membership_changes_emit_tips_in_order() {
    let h = Harness::default();
    let owner = h.login("owner");
    let bob = h.login("bob");
    let carol = h.login("carol");
    owner.create_group_with("club", "Club", GroupKind::Public, GroupAddOption::Any, vec!["bob".into()]).await.unwrap();
    carol.join_group("club").await.unwrap();
    owner.set_group_admin("club", "bob", true).await.unwrap();
    bob.kick_from_group("club", vec!["carol".into()]).await.unwrap();
    owner.set_group_admin("club", "bob", false).await.unwrap();
    bob.quit_group("club").await.unwrap();

    let all = call(
        &owner,
        "TIMMsgGetMsgList",
        Some("club"),
        2,
        r#"{"msg_getmsglist_param_is_forward":true,"msg_getmsglist_param_count":50}"#,
    )
    .await;
    assert_eq!(
        tips_of(&all.json),
        vec![
            (1, vec!["bob".to_string()]),
            (1, vec!["carol".to_string()]),
            (4, vec!["bob".to_string()]),
            (3, vec!["carol".to_string()]),
            (5, vec!["bob".to_string()]),
            (2, vec!["bob".to_string()]),
        ]
    );
    assert_eq!(all.json[0]["message_sender"], "@TIM#SYSTEM");
    assert_eq!(all.json[0]["message_elem_array"][0]["group_tips_elem_group_id"], "club");
    // Carol, kicked, can no longer send, but still reads what she saw.
    let r = call(
        &carol,
        "TIMMsgSendMessage",
        Some("club"),
        2,
        r#"{"message_elem_array":[{"elem_type":0,"text_elem_content":"x"}]}"#,
    )
    .await;
    assert_eq!(r.code, 10007);
    let hers = call(&carol, "TIMMsgGetMsgList", Some("club"), 2, "").await;
    assert_eq!(tips_of(&hers.json).len(), 3, "her join, the admin change and her kick");
}

#[tokio::test]
async fn permissions_and_dismiss() {
    let h = Harness::default();
    let owner = h.login("owner");
    let member = h.login("member");
    owner.create_group("g", "G", GroupKind::Private, vec!["member".into()]).await.unwrap();
    let mut member_events = member.take_events().unwrap();
    drain(&mut member_events);
    let code = |r: Result<(), TimError>| r.err().map_or(0, |e| e.code);
    assert_eq!(code(owner.create_group("g", "again", GroupKind::Private, vec![]).await), 10025);
    assert_eq!(code(member.kick_from_group("g", vec!["owner".into()]).await.map(drop)), 10007);
    assert_eq!(code(member.set_group_admin("g", "member", true).await), 10007);
    assert_eq!(code(member.dismiss_group("g").await), 10007);
    assert_eq!(code(owner.quit_group("g").await), 10007);
    assert_eq!(code(member.join_group("nope").await), 10010);
    owner.dismiss_group("g").await.unwrap();
    match next_event(&mut member_events).await {
        Event::NewMessages { messages, .. } => {
            let m = timsg::wire::view_to_json(&messages[0]);
            assert_eq!(m["message_conv_type"], 3);
            assert_eq!(m["message_conv_id"], "");
            assert_eq!(m["message_elem_array"][0]["elem_type"], 8);
            assert_eq!(m["message_elem_array"][0]["group_report_elem_report_type"], 5);
        }
        other => panic!("unexpected {other:?}"),
    }
    let r = call(
        &owner,
        "TIMMsgSendMessage",
        Some("g"),
        2,
        r#"{"message_elem_array":[{"elem_type":0,"text_elem_content":"x"}]}"#,
    )
    .await;
    assert_eq!(r.code, 10010);
    // Sending to a group one never joined, or that never existed.
    let stranger = h.login("stranger");
    owner.create_group("g2", "G2", GroupKind::Private, vec![]).await.unwrap();
    assert_eq!(
        call(
            &stranger,
            "TIMMsgSendMessage",
            Some("g2"),
            2,
            r#"{"message_elem_array":[{"elem_type":0,"text_elem_content":"x"}]}"#
        )
        .await
        .code,
        10007
    );
    assert_eq!(
        call(
            &stranger,
            "TIMMsgSendMessage",
            Some("g3"),
            2,
            r#"{"message_elem_array":[{"elem_type":0,"text_elem_content":"x"}]}"#
        )
        .await
        .code,
        10010
    );
}

#[tokio::test]
async fn strangers_join_only_where_the_group_kind_and_add_option_allow() {
    let h = Harness::default();
    let owner = h.login("owner");
    let stranger = h.login("stranger");
    let code = |r: Result<(), TimError>| r.err().map_or(0, |e| e.code);
    owner.create_group("work", "Work", GroupKind::Private, vec![]).await.unwrap();
    owner.create_group("pub-default", "Public", GroupKind::Public, vec![]).await.unwrap();
    owner.create_group_with("pub-closed", "P", GroupKind::Public, GroupAddOption::Forbid, vec![]).await.unwrap();
    owner.create_group_with("pub-open", "P", GroupKind::Public, GroupAddOption::Any, vec![]).await.unwrap();
    owner.create_group("meeting", "M", GroupKind::ChatRoom, vec![]).await.unwrap();
    owner.create_group("live", "L", GroupKind::AVChatRoom, vec![]).await.unwrap();
    assert_eq!(code(stranger.join_group("work").await), 10007, "work groups: invitation only");
    assert_eq!(code(stranger.join_group("pub-default").await), 10007, "public needs approval by default");
    assert_eq!(code(stranger.join_group("pub-closed").await), 10007);
    // Refused joins leave the stranger outside: they can neither read nor send.
    let history = stranger.get_msg_list(&timsg::ConvRef::group("work"), Default::default()).await;
    assert_eq!(history.err().map(|e| e.code), Some(10007));
    let sent = stranger
        .send(
            &timsg::ConvRef::group("work"),
            timsg::MessageContent::with_elements(vec![timsg::Element::text("let me in")]),
        )
        .await;
    assert_eq!(sent.err().map(|e| e.code), Some(10007));
    for open in ["pub-open", "meeting", "live"] {
        stranger.join_group(open).await.unwrap_or_else(|e| panic!("{open}: {e:?}"));
    }
    assert_eq!(code(stranger.join_group("pub-open").await), 10013, "already a member");
    // Invited, the stranger is in even where asking is not allowed.
    owner.invite_to_group("work", vec!["stranger".into()]).await.unwrap();
    stranger
        .send(
            &timsg::ConvRef::group("work"),
            timsg::MessageContent::with_elements(vec![timsg::Element::text("thanks")]),
        )
        .await
        .unwrap();
}

/// Counts the GroupTips (5) and GroupReports (8) among events, by group.
fn tips_and_reports(events: &[Event]) -> (std::collections::BTreeSet<String>, std::collections::BTreeSet<String>) {
    let (mut tips, mut reports) = (std::collections::BTreeSet::new(), std::collections::BTreeSet::new());
    for e in events {
        if let Event::NewMessages { messages, .. } = e {
            for m in messages {
                let m = timsg::wire::view_to_json(m);
                let e = &m["message_elem_array"][0];
                match e["elem_type"].as_u64() {
                    Some(5) => tips.insert(e["group_tips_elem_group_id"].as_str().unwrap().to_string()),
                    Some(8) => reports.insert(e["group_report_elem_group_id"].as_str().unwrap().to_string()),
                    _ => false,
                };
            }
        }
    }
    (tips, reports)
}

#[tokio::test]
async fn what_completes_after_a_logout_reaches_the_next_login() {
    const GROUPS: usize = 40;
    let mut h = Harness::default();
    let owner = h.login("owner");
    let creations: Vec<_> = (0..GROUPS)
        .map(|i| {
            let s = owner.clone();
            let members = vec!["guest".to_string()];
            tokio::spawn(async move { s.create_group(&format!("g{i}"), "G", GroupKind::Public, members).await })
        })
        .collect();
    // Each creation makes a GroupReport for the owner and a GroupTips (the guest invited) in
    // the group. The creations have not started (this runtime runs one task at a time): the logout is
    // before every one of them completes, though they still hold the session.
    owner.logout();
    for c in creations {
        c.await.unwrap().unwrap();
    }
    drop(owner);
    let want: std::collections::BTreeSet<String> = (0..GROUPS).map(|i| format!("g{i}")).collect();

    let again = h.login("owner");
    let mut events = again.take_events_after_missed().await.unwrap();
    let mut got = Vec::new();
    while tips_and_reports(&got) != (want.clone(), want.clone()) {
        let e = tokio::time::timeout(std::time::Duration::from_secs(5), events.recv()).await;
        let e = e.unwrap_or_else(|_| panic!("missing after the logout: {:?}", tips_and_reports(&got))).unwrap();
        got.push(e);
    }
    // Delivered once: the next login has none of them again, also after a restart.
    drop(events);
    drop(again);
    h.reopen();
    let third = h.login("owner");
    let missed = third.missed_events().await.unwrap();
    assert_eq!(tips_and_reports(&missed), Default::default(), "{missed:?}");
}
