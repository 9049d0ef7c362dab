//! A real full disk: the runtime (fsync) on a small tmpfs that fills up under four writers.
//! Sends that cannot be stored fail with a code, nothing acknowledged is lost or unreadable,
//! the store says it is unhealthy, writes resume by themselves once space is freed; a store
//! opened on a disk with no room left at all opens, serves reads and refuses writes until
//! space returns; and the database passes SQLite's integrity check.
//!
//! Mounting a tmpfs needs root (CI runs as root); elsewhere the test says so and passes,
//! except under `CI=true`, where a skipped test is a failure.

mod common;
mod tools;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use timsg::{ConvRef, Durability, Element, HistoryQuery, MessageContent, Runtime, RuntimeConfig, Session};

/// A tmpfs of a given size, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(mb: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mb}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazily: whatever still has a file open there lets go when it ends.
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// A 32 MB tmpfs; `None` (the test then says it is skipped) where mounting one is not
/// allowed, except under CI, which must run these tests.
fn small_disk_or_skip() -> Option<SmallDisk> {
    let disk = SmallDisk::mount(32);
    if disk.is_none() {
        tools::skipped("mounting a tmpfs failed (it needs root)");
    }
    disk
}

fn open(data: &Path) -> Runtime {
    open_with(data, Arc::default())
}

fn open_with(data: &Path, faults: Arc<timsg_actors::faults::Faults>) -> Runtime {
    Runtime::open(RuntimeConfig {
        faults,
        data_dir: data.to_path_buf(),
        durability: Durability::Fsync,
        arbiters: 2,
        call_deadline: Duration::from_secs(10),
        disk_reserve: 8 * 1024 * 1024,
        ..Default::default()
    })
    .expect("the runtime opens")
}

fn body(writer: usize, n: usize) -> MessageContent {
    let mut text = format!("w{writer}-{n}-");
    text.push_str(&"x".repeat(8 * 1024));
    MessageContent::with_elements(vec![Element::text(&text)])
}

/// Messages stored in the conversation with `peer` (the sender's failed ones, kept with
/// status SendFail, are not).
async fn stored_count(s: &Session, peer: &str) -> usize {
    let mut total = 0;
    let mut query = HistoryQuery { count: 100, forward: true, ..Default::default() };
    loop {
        let page = s.get_msg_list(&ConvRef::c2c(peer), query.clone()).await.unwrap();
        total += page.iter().filter(|m| m.message.status == timsg_actors::message::MessageStatus::SendSucc).count();
        let Some(last) = page.last() else { break };
        if page.len() < 100 {
            break;
        }
        query.anchor = timsg::HistoryAnchor::Message(timsg::MessageTarget::Id(last.message.id.clone()));
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_sends_with_a_code_loses_nothing_acknowledged_and_recovers() {
    let Some(disk) = small_disk_or_skip() else { return };
    // Room to free later, as an operator would.
    let filler: PathBuf = disk.path().join("filler");
    std::fs::write(&filler, vec![0u8; 12 * 1024 * 1024]).unwrap();
    // However the test ends, the space comes back, so the runtime can stop.
    struct FreeOnDrop(PathBuf);
    impl Drop for FreeOnDrop {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
    let _free = FreeOnDrop(filler.clone());
    let data = disk.path().join("data");
    let runtime = open(&data);
    let writers = 4;
    let sessions: Vec<Arc<Session>> =
        (0..writers).map(|w| Arc::new(runtime.login(&format!("writer{w}")).unwrap())).collect();
    let mut tasks = Vec::new();
    for (w, s) in sessions.iter().enumerate() {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let (mut acked, mut codes, mut failed_in_a_row) = (0usize, Vec::new(), 0);
            for n in 0..20_000 {
                match s.send(&ConvRef::c2c(&format!("reader{w}")), body(w, n)).await {
                    Ok(_) => {
                        acked += 1;
                        failed_in_a_row = 0;
                    }
                    Err(e) => {
                        codes.push((e.code, e.desc));
                        failed_in_a_row += 1;
                        if failed_in_a_row == 5 {
                            break;
                        }
                    }
                }
            }
            (acked, codes)
        }));
    }
    let mut acked = Vec::new();
    for t in tasks {
        let (n, codes) = t.await.unwrap();
        assert!(!codes.is_empty(), "the disk filled");
        assert!(codes.iter().all(|(c, _)| *c == 6019), "every failure is a storage failure: {codes:?}");
        assert!(codes.iter().any(|(_, why)| why.contains("nearly full")), "the callers hear why: {codes:?}");
        acked.push(n);
    }
    // The store's health says so too, unless the journal's backlog has reached SQLite since
    // the writers stopped and the room kept for it is free again (under load, about one run
    // in thirty): then it has room. A disk with no room at all is checked below, at the
    // restart.
    if let Err(why) = runtime.engine().store_health(Duration::from_secs(2)).await {
        assert!(why.contains("nearly full"), "{why}");
    }
    // Everything acknowledged can be read while the disk is full.
    for (w, n) in acked.iter().enumerate() {
        assert_eq!(stored_count(&sessions[w], &format!("reader{w}")).await, *n, "writer {w} on a full disk");
    }

    // Space comes back: writes resume by themselves.
    std::fs::remove_file(&filler).unwrap();
    send_until_it_goes_through(&sessions[0]).await;
    acked[0] += 1;
    assert_eq!(runtime.engine().store_health(Duration::from_secs(2)).await, Ok(()));
    for (w, n) in acked.iter().enumerate() {
        assert_eq!(stored_count(&sessions[w], &format!("reader{w}")).await, *n, "writer {w}");
    }
    drop(sessions);
    runtime.shutdown();

    // No room left at all, then a restart: the store opens, serves what it holds and refuses
    // writes with a code until space returns.
    fill_up(&filler);
    let runtime = open(&data);
    for (w, n) in acked.iter().enumerate() {
        let s = runtime.login(&format!("writer{w}")).unwrap();
        assert_eq!(stored_count(&s, &format!("reader{w}")).await, *n, "writer {w} after a restart on a full disk");
    }
    let s = runtime.login("writer0").unwrap();
    let refused = s.send(&ConvRef::c2c("reader0"), body(0, 100_000)).await.unwrap_err();
    assert_eq!(refused.code, 6019, "{refused:?}");
    assert!(runtime.engine().store_health(Duration::from_secs(2)).await.is_err());
    std::fs::remove_file(&filler).unwrap();
    send_until_it_goes_through(&s).await;
    acked[0] += 1;
    assert_eq!(stored_count(&s, "reader0").await, acked[0]);
    drop(s);
    runtime.shutdown();

    let db = rusqlite::Connection::open(data.join("timsg.db")).unwrap();
    let check: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
}

/// Sends until a send is acknowledged, for at most 30 s.
async fn send_until_it_goes_through(s: &Session) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match s.send(&ConvRef::c2c("reader0"), body(0, 99_999)).await {
            Ok(_) => return,
            Err(e) => assert!(Instant::now() < deadline, "writes did not resume: {e:?}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Writes `path` until the disk has no room left.
fn fill_up(path: &Path) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    let _ = file.sync_all();
}

/// Acknowledged writes the database did not take before the process stopped (here: SQLite
/// refused them, then the runtime was shut down), and a disk with no room left to replay them
/// at the next open: the store opens all the same (it used to refuse to start), what must see
/// the journal's backlog fails fast with a code and the reason, and everything is there, and
/// writable, once space returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_that_cannot_be_replayed_for_lack_of_space_opens_and_catches_up_later() {
    let Some(disk) = small_disk_or_skip() else { return };
    let data = disk.path().join("data");
    let faults = Arc::new(timsg_actors::faults::Faults::default());
    let runtime = open_with(&data, faults.clone());
    let alice = runtime.login("alice").unwrap();
    alice.send(&ConvRef::c2c("bob"), body(0, 0)).await.unwrap();
    // In SQLite before the database starts refusing: a search waits for every acknowledged write.
    let query = timsg::SearchQuery { keywords: vec!["w0-0-".into()], time_to: u64::MAX, ..Default::default() };
    assert_eq!(alice.search_local_messages(query).await.unwrap().total_count, 1);
    faults.refuse_indexing(true);
    alice.send(&ConvRef::c2c("bob"), body(0, 1)).await.expect("journaled: acknowledged");
    drop(alice);
    let stopping = Instant::now();
    runtime.shutdown();
    assert!(stopping.elapsed() < Duration::from_secs(10), "the shutdown gave up on the refused batch");

    let filler = disk.path().join("filler");
    fill_up(&filler);
    struct FreeOnDrop(PathBuf);
    impl Drop for FreeOnDrop {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
    let _free = FreeOnDrop(filler.clone());
    let runtime = open(&data);
    let why = runtime.engine().store_health(Duration::from_secs(2)).await.unwrap_err();
    assert!(why.contains("replaying the journal"), "{why}");
    // A login's catch-up reads across the user's conversations, so it must see the journal's
    // backlog: until then it fails fast, with a code and the reason.
    let asked = Instant::now();
    let Err(refused) = runtime.login("bob") else { panic!("no login before the backlog is in") };
    assert_eq!(refused.code, 6019, "{refused:?}");
    assert!(refused.desc.contains("replaying the journal"), "{refused:?}");
    assert!(asked.elapsed() < Duration::from_secs(2), "failed fast, not after a wait");

    std::fs::remove_file(&filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let bob = loop {
        match runtime.login("bob") {
            Ok(bob) => match bob.get_msg_list(&ConvRef::c2c("alice"), HistoryQuery::default()).await {
                Ok(page) => {
                    assert_eq!(page.len(), 2, "both acknowledged messages");
                    break bob;
                }
                Err(e) => assert!(Instant::now() < deadline, "never caught up: {e:?}"),
            },
            Err(e) => assert!(Instant::now() < deadline, "never caught up: {e:?}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    bob.send(&ConvRef::c2c("alice"), body(1, 0)).await.expect("writes are taken again");
    assert_eq!(runtime.engine().store_health(Duration::from_secs(2)).await, Ok(()));
    drop(bob);
    runtime.shutdown();
}
