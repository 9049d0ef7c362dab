//! The blob store: media bytes as files named by their SHA-256, in `blobs/` beside the
//! database. A blob is written to a temp file while it is hashed, fsynced, then renamed into
//! place, so a blob file is always complete; storing the same bytes twice keeps one file.
//!
//! Committed messages count references to their blobs in the store (`blobs` table); files that
//! no committed message refers to (uploads of cancelled sends, uploads never sent) are swept
//! once they are older than a grace period.
//!
//! With a URL key (the service sets one), a blob's URL and a merged message's relay key carry a
//! capability: a token that is the keyed hash of the blob's name. Knowing a blob's SHA-256 is
//! not enough to read it; the uploader got the token with its upload, and everyone who can see
//! a message got it in the message — the same model as a cloud's signed media URLs.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Bytes read or written per step; also the granularity of progress and cancel checks.
pub const CHUNK: usize = 256 * 1024;

/// Whether `s` is a blob name: 64 lowercase hex digits.
pub fn is_blob_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

pub fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// A stored blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    pub hash: String,
    pub size: u64,
}

/// Why a copy into the store stopped.
#[derive(Debug)]
pub enum PutError {
    Cancelled,
    Source(io::Error),
    Store(io::Error),
}

/// Bytes of a capability token (shown as twice as many hex digits).
const TOKEN_BYTES: usize = 16;

#[derive(Debug)]
pub struct BlobStore {
    dir: PathBuf,
    url_base: String,
    /// Signs blob names into capability tokens; `None` = names alone are enough (embedded use,
    /// where every caller is the device itself).
    url_key: Option<Vec<u8>>,
}

/// Where the blob `hash` lives under the store's directory: sharded by its first two digits.
fn blob_path(dir: &Path, hash: &str) -> PathBuf {
    dir.join(&hash[..2]).join(hash)
}

/// Decodes lowercase or uppercase hex.
fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

impl BlobStore {
    /// Opens `dir` (creating it), and clears temp files a crash may have left.
    pub fn open(dir: &Path, url_base: &str) -> io::Result<BlobStore> {
        fs::create_dir_all(dir.join("tmp"))?;
        for entry in fs::read_dir(dir.join("tmp"))?.flatten() {
            let _ = fs::remove_file(entry.path());
        }
        Ok(BlobStore { dir: dir.to_path_buf(), url_base: url_base.to_string(), url_key: None })
    }

    /// Makes URLs and relay keys carry capability tokens signed with `key` (see the module doc).
    pub fn with_url_key(mut self, key: Option<&[u8]>) -> BlobStore {
        self.url_key = key.map(<[u8]>::to_vec);
        self
    }

    fn signer(&self, hash: &str) -> Option<Hmac<Sha256>> {
        let key = self.url_key.as_ref()?;
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("hmac takes keys of any length");
        mac.update(b"timsg blob ");
        mac.update(hash.as_bytes());
        Some(mac)
    }

    /// The capability token of `hash`, if this store signs its URLs.
    pub fn token(&self, hash: &str) -> Option<String> {
        self.signer(hash).map(|m| to_hex(&m.finalize().into_bytes()[..TOKEN_BYTES]))
    }

    /// Whether `token` lets its holder read `hash`: always without a URL key; with one, only
    /// the right token (compared in constant time).
    pub fn token_grants(&self, hash: &str, token: Option<&str>) -> bool {
        match self.signer(hash) {
            None => true,
            Some(mac) => token
                .filter(|t| t.len() == TOKEN_BYTES * 2)
                .and_then(from_hex)
                .is_some_and(|t| mac.verify_truncated_left(&t).is_ok()),
        }
    }

    pub fn path_of(&self, hash: &str) -> PathBuf {
        blob_path(&self.dir, hash)
    }

    /// Whether `url` is in this store's URL space (a blob URL, valid or not).
    pub fn is_own_url(&self, url: &str) -> bool {
        url.starts_with(&self.url_base)
    }

    pub fn exists(&self, hash: &str) -> bool {
        is_blob_hash(hash) && self.path_of(hash).is_file()
    }

    /// The URL a message carries for a blob (with its token, if this store signs URLs).
    pub fn url_of(&self, hash: &str) -> String {
        match self.token(hash) {
            Some(t) => format!("{}{hash}?sig={t}", self.url_base),
            None => format!("{}{hash}", self.url_base),
        }
    }

    /// The blob a URL names, if it is one of ours and carries the token it needs.
    pub fn hash_of_url<'a>(&self, url: &'a str) -> Option<&'a str> {
        let rest = url.strip_prefix(&self.url_base)?;
        let (hash, query) = match rest.split_once('?') {
            Some((h, q)) => (h, Some(q)),
            None => (rest, None),
        };
        let token = query.and_then(|q| q.split('&').find_map(|p| p.strip_prefix("sig=")));
        (is_blob_hash(hash) && self.token_grants(hash, token)).then_some(hash)
    }

    /// The relay key of merged messages stored as blob `hash` at nesting `depth`:
    /// `<hash>-<depth>`, then `-<token>` if this store signs.
    pub fn relay_key(&self, hash: &str, depth: u32) -> String {
        match self.token(hash) {
            Some(t) => format!("{hash}-{depth}-{t}"),
            None => format!("{hash}-{depth}"),
        }
    }

    /// The blob and depth a relay key names, if it carries the token it needs.
    pub fn parse_relay_key<'a>(&self, key: &'a str) -> Option<(&'a str, u32)> {
        let mut parts = key.splitn(3, '-');
        let hash = parts.next()?;
        let depth = parts.next()?.parse().ok()?;
        (is_blob_hash(hash) && self.token_grants(hash, parts.next())).then_some((hash, depth))
    }

    /// A writer of a new blob: bytes go to a temp file while they are hashed; [`BlobWriter::finish`]
    /// syncs and renames it into place. Owns what it needs, so it can move to a blocking thread.
    pub fn writer(&self) -> io::Result<BlobWriter> {
        let tmp = self.dir.join("tmp").join(format!("{:016x}", fastrand::u64(..)));
        let file = File::create(&tmp)?;
        Ok(BlobWriter { dir: self.dir.clone(), tmp, file, hasher: Sha256::new(), size: 0, finished: false })
    }

    /// Copies `source` into the store, reporting `(copied, total)` after each chunk and
    /// stopping (leaving nothing behind) once `cancel` is set.
    pub fn put_reader(
        &self,
        mut source: impl Read,
        total: u64,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<BlobInfo, PutError> {
        let mut writer = self.writer().map_err(PutError::Store)?;
        let mut buf = vec![0u8; CHUNK];
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(PutError::Cancelled);
            }
            let n = source.read(&mut buf).map_err(PutError::Source)?;
            if n == 0 {
                break;
            }
            writer.write(&buf[..n]).map_err(PutError::Store)?;
            progress(writer.size(), total.max(writer.size()));
        }
        writer.finish().map_err(PutError::Store)
    }

    pub fn put_bytes(&self, bytes: &[u8]) -> io::Result<BlobInfo> {
        let never = AtomicBool::new(false);
        self.put_reader(bytes, bytes.len() as u64, &never, &mut |_, _| {}).map_err(|e| match e {
            PutError::Cancelled => io::Error::other("cancelled"),
            PutError::Source(e) | PutError::Store(e) => e,
        })
    }

    pub fn read(&self, hash: &str) -> io::Result<Vec<u8>> {
        if !is_blob_hash(hash) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a blob name"));
        }
        fs::read(self.path_of(hash))
    }

    /// Every blob file with its age.
    pub fn list(&self) -> io::Result<Vec<(String, Duration)>> {
        let mut out = Vec::new();
        for shard in fs::read_dir(&self.dir)?.flatten() {
            if !shard.path().is_dir() || shard.file_name() == "tmp" {
                continue;
            }
            for f in fs::read_dir(shard.path())?.flatten() {
                let name = f.file_name().to_string_lossy().to_string();
                if !is_blob_hash(&name) {
                    continue;
                }
                let age = f
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| SystemTime::now().duration_since(t).ok())
                    .unwrap_or_default();
                out.push((name, age));
            }
        }
        Ok(out)
    }

    pub fn remove(&self, hash: &str) -> io::Result<()> {
        fs::remove_file(self.path_of(hash))
    }
}

/// A blob being written (see [`BlobStore::writer`]); dropped unfinished, it leaves nothing.
#[derive(Debug)]
pub struct BlobWriter {
    dir: PathBuf,
    tmp: PathBuf,
    file: File,
    hasher: Sha256,
    size: u64,
    finished: bool,
}

impl BlobWriter {
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hasher.update(bytes);
        self.file.write_all(bytes)?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Syncs the bytes and moves them into place under their hash (keeping one file when the
    /// same bytes are stored already).
    pub fn finish(mut self) -> io::Result<BlobInfo> {
        self.file.sync_all()?;
        let hash = to_hex(&std::mem::take(&mut self.hasher).finalize());
        let dest = blob_path(&self.dir, &hash);
        if dest.is_file() {
            fs::remove_file(&self.tmp)?;
        } else {
            let parent = dest.parent().expect("blob paths have a parent");
            fs::create_dir_all(parent)?;
            fs::rename(&self.tmp, &dest)?;
            if let Ok(d) = File::open(parent) {
                let _ = d.sync_all();
            }
        }
        self.finished = true;
        Ok(BlobInfo { hash, size: self.size })
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if !self.finished {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_one_blob_and_cancel_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path(), "timsg-blob://").unwrap();
        let a = store.put_bytes(b"hello").unwrap();
        let b = store.put_bytes(b"hello").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.hash, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assert_eq!(store.read(&a.hash).unwrap(), b"hello");
        assert_eq!(store.hash_of_url(&store.url_of(&a.hash)), Some(a.hash.as_str()));
        let cancel = AtomicBool::new(true);
        assert!(matches!(store.put_reader(&b"x"[..], 1, &cancel, &mut |_, _| {}), Err(PutError::Cancelled)));
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        assert_eq!(store.list().unwrap().len(), 1);
        let mut unfinished = store.writer().unwrap();
        unfinished.write(b"partial").unwrap();
        drop(unfinished);
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }

    #[test]
    fn signed_urls_and_relay_keys_need_their_token() {
        let dir = tempfile::tempdir().unwrap();
        let base = "http://h/v1/blobs/";
        let store = BlobStore::open(dir.path(), base).unwrap().with_url_key(Some(b"k1"));
        let hash = store.put_bytes(b"secret").unwrap().hash;
        let url = store.url_of(&hash);
        assert!(url.contains("?sig="), "{url}");
        assert_eq!(store.hash_of_url(&url), Some(hash.as_str()));
        assert_eq!(store.hash_of_url(&format!("{base}{hash}")), None, "the name alone");
        let forged = format!("{base}{hash}?sig={}", "0".repeat(32));
        assert_eq!(store.hash_of_url(&forged), None);
        let other_key = BlobStore::open(dir.path(), base).unwrap().with_url_key(Some(b"k2"));
        assert_eq!(other_key.hash_of_url(&url), None);
        let relay = store.relay_key(&hash, 3);
        assert_eq!(store.parse_relay_key(&relay), Some((hash.as_str(), 3)));
        assert_eq!(store.parse_relay_key(&format!("{hash}-3")), None);
        assert!(!store.token_grants(&hash, Some("zz")));
        // Without a key (embedded use) the name is enough, as before.
        let open = BlobStore::open(dir.path(), base).unwrap();
        assert_eq!(open.url_of(&hash), format!("{base}{hash}"));
        assert_eq!(open.parse_relay_key(&format!("{hash}-3")), Some((hash.as_str(), 3)));
    }
}
