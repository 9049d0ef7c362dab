//! Fuzzes the dispatcher as the service drives it: a remote user's session (the service's
//! trust boundary) on an in-memory runtime, any function of the table, any conversation, any
//! JSON argument, any path. A call must answer — synchronously or through its completion,
//! within a deadline — and never panic: a panic caught while parsing answers 7012, which is
//! treated as a crash here.
//!
//! Input: byte 0 picks the function, byte 1 the conversation type, byte 2 the receive option;
//! the rest is `conv_id \0 json \0 path`.

#![no_main]

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use timsg::access::{Access, LimitBook, RemotePolicy, UserLimits};
use timsg::dispatch::{API_TABLE, ApiCall};
use timsg::{Durability, Runtime, RuntimeConfig, Session};

/// Calls on one runtime before it is replaced, so what the calls store stays bounded.
const CALLS_PER_RUNTIME: u32 = 20_000;

struct World {
    _dir: tempfile::TempDir,
    runtime: Runtime,
    session: Arc<Session>,
    calls: u32,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().expect("temp dir");
        let runtime = Runtime::open(RuntimeConfig {
            data_dir: dir.path().to_path_buf(),
            durability: Durability::Memory,
            arbiters: 1,
            group_rate_limit: 0,
            blob_url_key: Some(b"fuzz".to_vec()),
            ..Default::default()
        })
        .expect("runtime");
        let policy = Arc::new(RemotePolicy {
            files_root: dir.path().join("files"),
            fetch_allow: Vec::new(),
            limits: LimitBook::new(UserLimits::default()),
        });
        let session = Arc::new(runtime.login_with("fuzzer", Access::Remote(policy)).expect("login"));
        World { _dir: dir, runtime, session, calls: 0 }
    }
}

/// Statics, not thread-locals: statics are never dropped, so nothing runs at process exit
/// (a runtime dropped while thread-locals are being torn down would abort the fuzzer).
static WORLD: Mutex<Option<World>> = Mutex::new(None);
static TOKIO: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let (api, _) = API_TABLE[data[0] as usize % API_TABLE.len()];
    let rest = String::from_utf8_lossy(&data[3..]);
    let mut parts = rest.splitn(3, '\0');
    let conv_id = parts.next().unwrap_or("");
    let json = parts.next().unwrap_or("");
    let path = parts.next();
    {
        let mut w = WORLD.lock().unwrap_or_else(|e| e.into_inner());
        if w.as_ref().is_none_or(|w| w.calls >= CALLS_PER_RUNTIME) {
            if let Some(old) = w.take() {
                old.runtime.shutdown();
            }
            *w = Some(World::new());
        }
        let world = w.as_mut().expect("made above");
        world.calls += 1;
        let call = ApiCall {
            api,
            conv_id: Some(conv_id),
            conv_type: u32::from(data[1] % 5),
            json,
            opt: u32::from(data[2] % 4),
            path,
        };
        let session = world.session.clone();
        let rt =
            TOKIO.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio"));
        let result = rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(5), timsg::dispatch::dispatch(&session, &call)).await
        });
        let result = result.unwrap_or_else(|_| panic!("{api} did not answer within 5 s: {call:?}"));
        assert_ne!(result.code, 7012, "{api} hit an internal error: {}", result.desc);
    }
});
