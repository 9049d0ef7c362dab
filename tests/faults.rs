//! The store and the actors on their worst day, with failures injected at the journal writer
//! (`timsg_actors::faults`): a group commit that fails halfway through its frame, and a writer
//! that stalls. What the callers see, and what the store holds afterwards, across a restart.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use timsg::{ConvRef, Element, HistoryQuery, MessageContent, Session};
use timsg_actors::faults::Faults;

fn text(t: &str) -> MessageContent {
    MessageContent::with_elements(vec![Element::text(t)])
}

/// The texts of `conv` as `user` reads them, oldest first, with their seqs.
async fn history(s: &Arc<Session>, conv: &ConvRef) -> Vec<(u64, String)> {
    let query = HistoryQuery { count: 1000, ..Default::default() };
    let mut page: Vec<(u64, String)> = s
        .get_msg_list(conv, query)
        .await
        .unwrap()
        .iter()
        .map(|m| {
            let json = timsg::wire::view_to_json(m);
            (m.message.seq, json["message_elem_array"][0]["text_elem_content"].as_str().unwrap_or("").to_string())
        })
        .collect();
    page.sort();
    page
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_group_commit_fails_its_send_and_the_conversation_carries_on() {
    let faults = Arc::new(Faults::default());
    let mut h = Harness::new(|c| c.faults = faults.clone());
    let (alice, bob) = (h.login("alice"), h.login("bob"));
    let conv = ConvRef::c2c("bob");
    alice.send(&conv, text("one")).await.unwrap();
    faults.fail_journal_appends(1);
    let lost = alice.send_message_with_id(&conv, text("lost"), Some("lost-1")).unwrap();
    let e = lost.outcome().await.map_err(timsg::TimError::from).unwrap_err();
    assert_eq!(e.code, 6019, "{e:?}");
    assert!(e.desc.contains("could not be stored"), "{}", e.desc);
    let three = alice.send(&conv, text("three")).await.unwrap();
    assert_eq!(three.message.seq, 2, "no hole where the failed message was");
    assert_eq!(history(&bob, &ConvRef::c2c("alice")).await, [(1, "one".into()), (2, "three".into())]);
    // The sender keeps the failed message, marked SendFail (3), as the SDK does; no one else sees it.
    let seen = statuses(&alice, &conv).await;
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen.contains(&("lost-1".into(), 3)) && seen.contains(&(three.message.id.to_string(), 2)), "{seen:?}");
    drop((alice, bob));
    h.reopen();
    let (alice, bob) = (h.login("alice"), h.login("bob"));
    assert_eq!(
        history(&bob, &ConvRef::c2c("alice")).await,
        [(1, "one".into()), (2, "three".into())],
        "and so after a restart"
    );
    assert!(statuses(&alice, &conv).await.contains(&("lost-1".into(), 3)), "kept across a restart");
    // Sent again with its ID, it goes through and replaces the failed copy.
    let again = alice.send_message_with_id(&conv, text("lost"), Some("lost-1")).unwrap().outcome().await.unwrap();
    assert_eq!(again.message.seq, 3);
    let after = statuses(&alice, &conv).await;
    assert_eq!(after.iter().filter(|(id, _)| id == "lost-1").collect::<Vec<_>>(), [&("lost-1".to_string(), 2)]);
    assert_eq!(history(&bob, &ConvRef::c2c("alice")).await.len(), 3);
}

/// (message ID, status) of everything `s` sees in `conv`.
async fn statuses(s: &Arc<Session>, conv: &ConvRef) -> Vec<(String, i32)> {
    let query = HistoryQuery { count: 1000, ..Default::default() };
    let page = s.get_msg_list(conv, query).await.unwrap();
    page.iter().map(|m| (m.message.id.to_string(), m.message.status as i32)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_in_flight_behind_a_failed_commit_leave_no_hole() {
    let faults = Arc::new(Faults::default());
    // One request per group commit, so the writes in flight are separate commits.
    let mut h = Harness::new(|c| {
        c.faults = faults.clone();
        c.group_commit_max = 1;
    });
    let alice = h.login("alice");
    let bob = h.login("bob");
    let mut bob_events = bob.take_events().unwrap();
    let conv = ConvRef::c2c("bob");
    alice.send(&conv, text("before")).await.unwrap();
    // Many sends in flight at once, the first group commit among them fails: each send either
    // fails or is stored, and what is stored has seqs 1, 2, 3, … without a gap.
    let mut failed = 0;
    for round in 0..5 {
        faults.stall_writer(true);
        let mut pending = Vec::new();
        for i in 0..40 {
            pending.push(alice.send_message(&conv, text(&format!("r{round}-{i}"))).unwrap());
            // Spread over several of the actor's flushes: several write requests in flight.
            if i % 8 == 7 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        faults.fail_journal_appends(1);
        faults.stall_writer(false);
        let mut stored = Vec::new();
        for p in pending {
            match p.outcome().await {
                Ok(m) => stored.push(m.message.seq),
                Err(e) => {
                    assert_eq!(timsg::TimError::from(e).code, 6019);
                    failed += 1;
                }
            }
        }
        assert!(stored.len() < 40, "round {round}: the injected failure failed something");
    }
    let after = alice.send(&conv, text("after")).await.unwrap();
    let held = history(&alice, &conv).await;
    // The sender keeps each failed message, unsequenced and marked SendFail.
    let kept = statuses(&alice, &conv).await.into_iter().filter(|(_, status)| *status == 3).count();
    assert_eq!(kept, failed);
    let seqs: Vec<u64> = held.iter().map(|(s, _)| *s).filter(|s| *s > 0).collect();
    assert_eq!(seqs, (1..=after.message.seq).collect::<Vec<_>>(), "gap-free");
    // The receiver heard of every stored message once, in order — also of those whose sender
    // was answered only after the reload.
    let mut heard = Vec::new();
    while heard.len() < seqs.len() {
        match tokio::time::timeout(Duration::from_secs(10), bob_events.recv()).await {
            Ok(Some(timsg::Event::NewMessages { messages, .. })) => {
                heard.extend(messages.iter().map(|m| m.message.seq))
            }
            Ok(Some(_)) => {}
            other => panic!("bob heard {heard:?} of {seqs:?}, then {other:?}"),
        }
    }
    assert_eq!(heard, seqs);
    drop((alice, bob));
    h.reopen();
    let alice = h.login("alice");
    assert_eq!(history(&alice, &conv).await, held, "the store opens and holds the same log");
    alice.send(&conv, text("later")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_writer_answers_callers_with_a_timeout_not_a_hang() {
    let faults = Arc::new(Faults::default());
    let h = Harness::new(|c| {
        c.faults = faults.clone();
        c.call_deadline = Duration::from_millis(300);
    });
    let alice = h.login("alice");
    let conv = ConvRef::c2c("bob");
    alice.send(&conv, text("one")).await.unwrap();
    faults.stall_writer(true);
    let started = std::time::Instant::now();
    let e = alice.send(&conv, text("stuck")).await.unwrap_err();
    assert_eq!(e.code, 6012, "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // Reads of what is stored do not wait for the writer.
    assert_eq!(history(&alice, &conv).await[0], (1, "one".into()));
    faults.stall_writer(false);
    // Timed out is not failed: the message is stored once the disk moves again.
    let two = alice.send(&conv, text("two")).await.unwrap();
    assert_eq!(two.message.seq, 3);
    assert_eq!(history(&alice, &conv).await[1], (2, "stuck".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_reports_itself_unhealthy_while_writes_fail_and_recovers_by_itself() {
    let faults = Arc::new(Faults::default());
    let h = Harness::new(|c| c.faults = faults.clone());
    let alice = h.login("alice");
    let engine = h.runtime.engine();
    let within = Duration::from_millis(300);
    assert_eq!(engine.store_health(within).await, Ok(()));
    // A stalled writer is reported within the deadline, not waited for.
    faults.stall_writer(true);
    let started = std::time::Instant::now();
    let why = engine.store_health(within).await.unwrap_err();
    assert!(why.contains("did not answer"), "{why}");
    assert!(started.elapsed() < Duration::from_secs(3));
    faults.stall_writer(false);
    assert_eq!(engine.store_health(within).await, Ok(()));
    // As a full disk: every append fails, sends fail with a code, and the store says why.
    faults.fail_journal_appends(u32::MAX);
    for _ in 0..3 {
        assert_eq!(alice.send(&ConvRef::c2c("bob"), text("lost")).await.unwrap_err().code, 6019);
    }
    let why = engine.store_health(within).await.unwrap_err();
    assert!(why.contains("injected failure"), "{why}");
    faults.fail_journal_appends(0);
    // The next commit that works makes it healthy again; nothing to restart.
    alice.send(&ConvRef::c2c("bob"), text("back")).await.unwrap();
    assert_eq!(engine.store_health(within).await, Ok(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_indexer_fails_the_reads_that_need_it_and_loses_nothing() {
    let faults = Arc::new(Faults::default());
    let mut h = Harness::new(|c| {
        c.faults = faults.clone();
        c.call_deadline = Duration::from_secs(5);
    });
    let alice = h.login("alice");
    let conv = ConvRef::c2c("bob");
    alice.send(&conv, text("indexed")).await.unwrap();
    faults.panic_indexer();
    alice.send(&conv, text("journaled only")).await.unwrap();
    // A search must see every acknowledged write: with the indexer gone it fails, at once.
    let query = timsg::SearchQuery { keywords: vec!["journaled".into()], time_to: u64::MAX, ..Default::default() };
    let started = std::time::Instant::now();
    let e = alice.search_local_messages(query.clone()).await.unwrap_err();
    assert_ne!(e.code, 6012, "an error, not a wait for the deadline: {e:?}");
    assert!(started.elapsed() < Duration::from_secs(4));
    // The journal holds what the indexer did not take: the next open has it.
    drop(alice);
    h.reopen();
    let alice = h.login("alice");
    let texts: Vec<String> = history(&alice, &conv).await.into_iter().map(|(_, t)| t).collect();
    assert_eq!(texts, ["indexed", "journaled only"]);
    assert_eq!(alice.search_local_messages(query).await.unwrap().total_count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_finding_the_mailbox_full_is_refused_at_once_never_queued_out_of_order() {
    let faults = Arc::new(Faults::default());
    let h = Harness::new(|c| {
        c.faults = faults.clone();
        c.store_queue = 1;
        c.conversation_mailbox = 4;
    });
    let alice = h.login("alice");
    let conv = ConvRef::c2c("bob");
    alice.send(&conv, text("zero")).await.unwrap();
    // With the writer stalled and its queue full, the actor waits on the store and its
    // mailbox fills. (Unstalled however the test ends, or the runtime could not stop.)
    struct Unstall(Arc<Faults>);
    impl Drop for Unstall {
        fn drop(&mut self) {
            self.0.stall_writer(false);
        }
    }
    let _unstall = Unstall(faults.clone());
    faults.stall_writer(true);
    let mut accepted = Vec::new();
    let refused = loop {
        assert!(accepted.len() < 1000, "the mailbox never filled");
        match alice.send_message(&conv, text(&format!("m{}", accepted.len()))) {
            Ok(p) => accepted.push(p),
            Err(e) => break e,
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    assert_eq!(refused.code, 9507, "{refused:?}");
    faults.stall_writer(false);
    let mut seqs = Vec::new();
    for p in accepted {
        seqs.push(p.outcome().await.unwrap().message.seq);
    }
    assert_eq!(seqs, (2..2 + seqs.len() as u64).collect::<Vec<_>>(), "every accepted send, in order");
    let held = history(&alice, &conv).await;
    assert_eq!(held.len(), seqs.len() + 1, "the refused send is not stored: {held:?}");
}

/// A conversation whose state cannot be loaded (here: its acknowledged write waits in the
/// journal, which the database refuses) answers its ops with the reason at once for a moment,
/// instead of each op starting an actor that tries the same read; it loads once it can.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_that_cannot_load_fails_fast_without_a_load_per_op() {
    let faults = Arc::new(Faults::default());
    let h = Harness::new(|c| {
        c.faults = faults.clone();
        c.idle_passivation = Duration::from_millis(100);
    });
    let alice = h.login("alice");
    let conv = ConvRef::c2c("bob");
    faults.refuse_indexing(true);
    alice.send(&conv, text("journaled only")).await.unwrap();
    // Passivated while the database refuses the write: loading it again must wait for it.
    let engine = h.runtime.engine();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while engine.supervisor_stats().await.passivated == 0 {
        assert!(std::time::Instant::now() < deadline, "the conversation was never passivated");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let activated = engine.supervisor_stats().await.activated;
    for _ in 0..50 {
        let e = alice.get_msg_list(&conv, HistoryQuery::default()).await.unwrap_err();
        assert_eq!(e.code, 6019, "{e:?}");
        assert!(e.desc.contains("cannot be loaded"), "{}", e.desc);
    }
    let attempts = engine.supervisor_stats().await.activated - activated;
    assert!(attempts <= 4, "{attempts} loads for 50 calls");
    faults.refuse_indexing(false);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match alice.get_msg_list(&conv, HistoryQuery::default()).await {
            Ok(page) => {
                assert_eq!(page.len(), 1);
                break;
            }
            Err(e) => assert!(std::time::Instant::now() < deadline, "never loaded: {e:?}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Ops that arrive while a conversation restarts behind a stalled disk are held, but no more
/// than a mailbox holds: the rest are refused with 9507 at once, and what was held runs, in
/// order and gap-free, once the disk moves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_behind_a_stalled_disk_holds_a_bounded_number_of_ops() {
    let faults = Arc::new(Faults::default());
    let h = Harness::new(|c| {
        c.faults = faults.clone();
        c.conversation_mailbox = 64;
    });
    let alice = h.login("alice");
    let conv = ConvRef::c2c("bob");
    alice.send(&conv, text("before")).await.unwrap();
    let key = alice.conv_key(&conv).unwrap();
    let engine = h.runtime.engine().clone();
    // The restart's barrier waits behind the stalled writer, so the actor holds what comes.
    faults.stall_writer(true);
    engine.dispatch(&key, timsg_actors::actors::ConvOp::InjectPanic).await.unwrap();
    let mut pending = Vec::new();
    let mut refused = 0;
    for i in 0..400 {
        match alice.send_message(&conv, text(&format!("m{i}"))) {
            Ok(p) => pending.push(p),
            Err(e) => {
                assert_eq!(e.code, 9507, "{e:?}");
                refused += 1;
            }
        }
        if i % 50 == 49 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let mut stored = Vec::new();
    let mut busy = 0;
    faults.stall_writer(false);
    for p in pending {
        match p.outcome().await {
            Ok(m) => stored.push(m.message.seq),
            Err(e) => {
                assert_eq!(timsg::TimError::from(e).code, 9507);
                busy += 1;
            }
        }
    }
    assert!(refused + busy > 0, "more than the bound arrived, so some were refused");
    assert!(stored.len() <= 64 + 64, "at most a held mailbox and a mailbox: {}", stored.len());
    stored.sort_unstable();
    assert_eq!(stored, (2..2 + stored.len() as u64).collect::<Vec<_>>(), "in order, gap-free");
}
