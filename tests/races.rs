//! Races: the conversation actor's order decides, never timing. Many tasks at once on one
//! conversation: cancel against commit, revoke against delete against read, concurrent senders.

mod common;

use common::*;
use std::collections::HashSet;
use timsg::{ConvRef, Element, MessageContent, MessageTarget, TimError, ViewKind};
use timsg_actors::group::GroupKind;

fn text(t: String) -> MessageContent {
    MessageContent::with_elements(vec![Element::text(t)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_against_commit_is_all_or_nothing() {
    let h = Harness::new(|c| c.group_rate_limit = 20);
    let alice = h.login("alice");
    alice.create_group("race", "r", GroupKind::Private, vec![]).await.unwrap();
    let conv = ConvRef::group("race");
    let mut tasks = Vec::new();
    for i in 0..60 {
        let (alice, conv) = (alice.clone(), conv.clone());
        tasks.push(tokio::spawn(async move {
            let pending = alice.send_message(&conv, text(format!("m{i}"))).unwrap();
            let id = pending.id.to_string();
            let cancel = async {
                tokio::task::yield_now().await;
                alice.cancel_send(&conv, &id).await
            };
            let (sent, cancelled) = tokio::join!(pending.outcome(), cancel);
            (id, sent.map_err(TimError::from), cancelled)
        }));
    }
    // Let the rate limit release what was not cancelled.
    let clock = h.clock.clone();
    let ticker = tokio::spawn(async move {
        for _ in 0..100 {
            clock.advance_ms(1000);
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    });
    let mut committed = HashSet::new();
    for t in tasks {
        let (id, sent, cancelled) = t.await.unwrap();
        match (&sent, &cancelled) {
            (Ok(_), Err(e)) => {
                assert_eq!(e.code, 8020);
                committed.insert(id);
            }
            (Err(e), Ok(())) => assert_eq!(e.code, 8021),
            other => panic!("both or neither: {other:?}"),
        }
    }
    ticker.abort();
    assert!(!committed.is_empty() && committed.len() < 60, "both outcomes happened: {}", committed.len());
    let history = alice
        .get_msg_list(&conv, timsg::HistoryQuery { count: 1000, forward: true, ..Default::default() })
        .await
        .unwrap();
    // Alice also keeps her cancelled messages (status Cancel, unsequenced), as the SDK does.
    let (sent, kept): (Vec<_>, Vec<_>) = history.iter().partition(|v| v.message.seq > 0);
    let ids: HashSet<String> =
        sent.iter().filter(|v| v.message.sender.as_ref() == "alice").map(|v| v.message.id.to_string()).collect();
    assert_eq!(ids, committed, "history holds exactly the committed sends");
    assert_eq!(kept.len(), 60 - committed.len());
    assert!(kept.iter().all(|v| v.message.status == timsg_actors::message::MessageStatus::Cancel));
    let seqs: Vec<u64> = sent.iter().map(|v| v.message.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "gap-free");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revoke_delete_and_read_from_many_tasks() {
    let h = Harness::default();
    let alice = h.login("alice");
    let bob = h.login("bob");
    let conv_ab = ConvRef::c2c("bob");
    let conv_ba = ConvRef::c2c("alice");
    let sent = alice.send(&conv_ab, text("target".into())).await.unwrap();
    let target = MessageTarget::Id(sent.message.id.clone());
    let mut tasks = Vec::new();
    for i in 0..30 {
        let (alice, bob, a, b, t) = (alice.clone(), bob.clone(), conv_ab.clone(), conv_ba.clone(), target.clone());
        tasks.push(tokio::spawn(async move {
            match i % 3 {
                0 => ("revoke", alice.revoke(&a, t).await.err().map(|e| e.code)),
                1 => ("delete", bob.delete(&b, Some(t), ViewKind::Local).await.err().map(|e| e.code)),
                _ => ("read", bob.report_readed(&b, Some(t)).await.err().map(|e| e.code)),
            }
        }));
    }
    let mut revoked = 0;
    for t in tasks {
        match t.await.unwrap() {
            ("revoke", None) => revoked += 1,
            ("revoke", Some(code)) => assert_eq!(code, 10032, "only 'already revoked' may fail"),
            (op, Some(code)) => panic!("{op} failed with {code}"),
            _ => {}
        }
    }
    assert_eq!(revoked, 1, "exactly one revoke wins");
    assert_eq!(bob.unread_count(&conv_ba).await.unwrap(), 0);
    let roaming = bob
        .get_msg_list(&conv_ba, timsg::HistoryQuery { view: ViewKind::Roaming, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(roaming[0].message.status, timsg::MessageStatus::Revoked);
    assert!(bob.get_msg_list(&conv_ba, timsg::HistoryQuery::default()).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_senders_leave_a_gap_free_seq() {
    let h = Harness::new(|c| c.group_rate_limit = 0);
    let owner = h.login("owner");
    let members: Vec<String> = (0..8).map(|i| format!("s{i}")).collect();
    owner.create_group("busy", "b", GroupKind::ChatRoom, members.clone()).await.unwrap();
    let conv = ConvRef::group("busy");
    let mut tasks = Vec::new();
    for m in &members {
        let s = h.login(m);
        let conv = conv.clone();
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..40 {
                seqs.push(s.send(&conv, text(format!("{i}"))).await.unwrap().message.seq);
            }
            seqs
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        let seqs = t.await.unwrap();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "each sender's messages in order");
        all.extend(seqs);
    }
    all.sort();
    let first = all[0];
    assert_eq!(all, (first..first + 320).collect::<Vec<_>>());
}
