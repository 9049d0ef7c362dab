//! Fuzzes what the service parses from a remote caller before any call runs: a `POST /v1/<api>`
//! body, a call frame on the WebSocket, a UserSig, a relative download path, a URL to fetch,
//! and blob URLs and relay keys with their capability tokens. None may panic, and what each
//! accepts must keep its promise (a path stays relative and plain; a fetched URL is http(s) on
//! the allow-list; a blob URL names a blob hash).

#![no_main]

use std::path::Component;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use timsg::access::user_files;
use timsg::service::api::CallBody;
use timsg_actors::media::blob::{BlobStore, is_blob_hash};
use timsg_actors::media::fetch_guard;

const KEY: &str = "fuzz-secret";

fn blobs() -> &'static BlobStore {
    static STORE: OnceLock<(tempfile::TempDir, BlobStore)> = OnceLock::new();
    &STORE
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            let store = BlobStore::open(dir.path(), "http://h/v1/blobs/").expect("blob store").with_url_key(Some(b"k"));
            (dir, store)
        })
        .1
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = timsg::wire::lenient::from_str::<CallBody>(&text);
    let _ = timsg::service::ws_calls::read_frame(&text);
    let _ = timsg::auth::usersig::verify(&text, 1_400_000_000, KEY, "alice", 1_800_000_000);
    if let Ok(names) = user_files::plain_components(&text) {
        let p = std::path::Path::new(text.as_ref());
        assert!(!p.is_absolute() && !names.is_empty(), "{text:?}");
        assert!(p.components().all(|c| matches!(c, Component::Normal(_))), "{text:?}");
    }
    let allow = ["media.example.com".to_string(), ".cdn.example.net".into(), "1.1.1.1".into()];
    if fetch_guard::check_url(&text, &allow).is_ok() {
        // Judged as the client that fetches it parses it (the URL standard drops controls
        // and tolerates missing slashes).
        let parsed = reqwest::Url::parse(&text).expect("an accepted URL parses");
        assert!(matches!(parsed.scheme(), "http" | "https"), "{text:?}");
        assert!(fetch_guard::literal_address_allowed(&text), "{text:?}");
    }
    let store = blobs();
    if let Some(hash) = store.hash_of_url(&text) {
        assert!(is_blob_hash(hash));
        assert_eq!(store.url_of(hash), text, "only the URL the store gives out is accepted");
    }
    if let Some((hash, _)) = store.parse_relay_key(&text) {
        assert!(is_blob_hash(hash));
    }
});
