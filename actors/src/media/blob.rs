//! The blob store: media bytes as files named by their SHA-256, in `blobs/` beside the
//! database. A blob is written to a temp file while it is hashed, fsynced, then renamed into
//! place, so a blob file is always complete; storing the same bytes twice keeps one file.
//!
//! Committed messages count references to their blobs in the store (`blobs` table); files that
//! no committed message refers to (uploads of cancelled sends) are swept once they are older
//! than a grace period.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

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

#[derive(Debug)]
pub struct BlobStore {
    dir: PathBuf,
    url_base: String,
}

impl BlobStore {
    /// Opens `dir` (creating it), and clears temp files a crash may have left.
    pub fn open(dir: &Path, url_base: &str) -> io::Result<BlobStore> {
        fs::create_dir_all(dir.join("tmp"))?;
        for entry in fs::read_dir(dir.join("tmp"))?.flatten() {
            let _ = fs::remove_file(entry.path());
        }
        Ok(BlobStore { dir: dir.to_path_buf(), url_base: url_base.to_string() })
    }

    pub fn path_of(&self, hash: &str) -> PathBuf {
        self.dir.join(&hash[..2]).join(hash)
    }

    pub fn exists(&self, hash: &str) -> bool {
        is_blob_hash(hash) && self.path_of(hash).is_file()
    }

    /// The URL a message carries for a blob.
    pub fn url_of(&self, hash: &str) -> String {
        format!("{}{hash}", self.url_base)
    }

    /// The blob a URL names, if it is one of ours.
    pub fn hash_of_url<'a>(&self, url: &'a str) -> Option<&'a str> {
        url.strip_prefix(&self.url_base).filter(|h| is_blob_hash(h))
    }

    fn temp_file(&self) -> io::Result<(PathBuf, File)> {
        let path = self.dir.join("tmp").join(format!("{:016x}", fastrand::u64(..)));
        let file = File::create(&path)?;
        Ok((path, file))
    }

    /// Moves a complete, fsynced temp file into place under its hash.
    fn commit(&self, tmp: &Path, hash: &str) -> io::Result<()> {
        let dest = self.path_of(hash);
        if dest.is_file() {
            fs::remove_file(tmp)?;
            return Ok(());
        }
        fs::create_dir_all(dest.parent().expect("blob paths have a parent"))?;
        fs::rename(tmp, &dest)?;
        if let Ok(d) = File::open(dest.parent().expect("blob paths have a parent")) {
            let _ = d.sync_all();
        }
        Ok(())
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
        let (tmp, mut file) = self.temp_file().map_err(PutError::Store)?;
        let result = (|| {
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; CHUNK];
            let mut copied = 0u64;
            loop {
                if cancel.load(Ordering::Relaxed) {
                    return Err(PutError::Cancelled);
                }
                let n = source.read(&mut buf).map_err(PutError::Source)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                file.write_all(&buf[..n]).map_err(PutError::Store)?;
                copied += n as u64;
                progress(copied, total.max(copied));
            }
            file.sync_all().map_err(PutError::Store)?;
            Ok(BlobInfo { hash: to_hex(&hasher.finalize()), size: copied })
        })();
        match result {
            Ok(info) => {
                self.commit(&tmp, &info.hash).map_err(PutError::Store)?;
                Ok(info)
            }
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(e)
            }
        }
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
    }
}
