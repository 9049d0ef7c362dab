//! One download to a path: from the blob store, or from an http(s) URL, streamed.
//!
//! The bytes go to a part file beside the destination (named after the source, so a part file
//! of another source is never resumed); a dropped connection is retried with an HTTP Range
//! request from where the part file ends. Once complete the size (and, for blobs, the hash) is
//! verified, the file fsynced and renamed into place, so the destination name only ever holds a
//! whole file. Progress is reported monotonically, at most every [`PROGRESS_INTERVAL`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::{ConvError, ConvResult};
use crate::media::blob::{BlobStore, CHUNK, to_hex};

/// Progress reports at most this often (20 per second).
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(50);
/// Attempts per download when the connection drops.
pub const MAX_ATTEMPTS: u32 = 5;

/// Where the bytes come from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DownloadSource {
    /// A blob of this store, by hash.
    Blob(String),
    /// An http or https URL.
    Http(String),
}

impl DownloadSource {
    fn name(&self) -> &str {
        match self {
            DownloadSource::Blob(h) => h,
            DownloadSource::Http(u) => u,
        }
    }
}

/// Calls `report` monotonically, at most every [`PROGRESS_INTERVAL`], and always for the end.
pub struct Throttle<F: FnMut(u64, u64)> {
    report: F,
    last_at: Option<Instant>,
    last_current: u64,
}

impl<F: FnMut(u64, u64)> Throttle<F> {
    pub fn new(report: F) -> Self {
        Throttle { report, last_at: None, last_current: 0 }
    }

    pub fn update(&mut self, current: u64, total: u64) {
        let due = self.last_at.is_none_or(|t| t.elapsed() >= PROGRESS_INTERVAL) || (total > 0 && current >= total);
        if due && (current > self.last_current || self.last_at.is_none()) {
            self.last_at = Some(Instant::now());
            self.last_current = current;
            (self.report)(current, total);
        }
    }
}

/// The part file a download of `source` to `dest` writes before it is complete.
pub fn part_path(dest: &Path, source: &DownloadSource) -> PathBuf {
    let tag = to_hex(&Sha256::digest(source.name().as_bytes())[..6]);
    let name = dest.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    dest.with_file_name(format!(".{name}.{tag}.timsg-part"))
}

/// Checks the destination can be written: its directory exists and it is not a directory.
fn check_dest(dest: &Path) -> ConvResult<()> {
    if dest.as_os_str().is_empty() || dest.is_dir() {
        return Err(ConvError::FileUnreadable(format!("{} is not a file path", dest.display())));
    }
    let parent = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(ConvError::FileUnreadable(format!("directory {} does not exist", parent.display())));
    }
    Ok(())
}

fn io_err(dest: &Path) -> impl Fn(std::io::Error) -> ConvError + '_ {
    move |e| ConvError::FileUnreadable(format!("{}: {e}", dest.display()))
}

async fn finish(part: &Path, dest: &Path, file: tokio::fs::File) -> ConvResult<()> {
    file.sync_all().await.map_err(io_err(dest))?;
    drop(file);
    tokio::fs::rename(part, dest).await.map_err(io_err(dest))?;
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty())
        && let Ok(dir) = tokio::fs::File::open(parent).await
    {
        let _ = dir.sync_all().await;
    }
    Ok(())
}

/// Downloads `source` to `dest`, refusing a network body over `max_bytes`; returns the size.
pub async fn download(
    source: &DownloadSource,
    dest: &Path,
    client: &reqwest::Client,
    blobs: &BlobStore,
    cancel: Arc<AtomicBool>,
    max_bytes: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> ConvResult<u64> {
    check_dest(dest)?;
    let part = part_path(dest, source);
    let result = match source {
        DownloadSource::Blob(hash) => from_blob(hash, &part, dest, blobs, &cancel, progress).await,
        DownloadSource::Http(url) => from_http(url, &part, dest, client, &cancel, max_bytes, progress).await,
    };
    // A part file stays only where a later call can resume it: after a dropped connection.
    if let Err(e) = &result
        && !matches!(e, ConvError::DownloadFailed(_))
    {
        let _ = tokio::fs::remove_file(&part).await;
    }
    result
}

async fn from_blob(
    hash: &str,
    part: &Path,
    dest: &Path,
    blobs: &BlobStore,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(u64, u64),
) -> ConvResult<u64> {
    let mut src = tokio::fs::File::open(blobs.path_of(hash))
        .await
        .map_err(|e| ConvError::DownloadFailed(format!("blob {hash}: {e}")))?;
    let total = src.metadata().await.map_err(|e| ConvError::DownloadFailed(e.to_string()))?.len();
    let mut out = tokio::fs::File::create(part).await.map_err(io_err(dest))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut done = 0u64;
    let mut throttle = Throttle::new(progress);
    throttle.update(0, total);
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(ConvError::TransferCancelled);
        }
        let n = src.read(&mut buf).await.map_err(|e| ConvError::DownloadFailed(e.to_string()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).await.map_err(io_err(dest))?;
        done += n as u64;
        throttle.update(done, total);
    }
    if done != total || to_hex(&hasher.finalize()) != hash {
        return Err(ConvError::DownloadFailed(format!("blob {hash} failed verification")));
    }
    finish(part, dest, out).await?;
    Ok(done)
}

/// An error with the causes under it (reqwest's own text is only "error sending request").
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// `bytes start-end/total` → (start, total).
fn content_range(resp: &reqwest::Response) -> Option<(u64, Option<u64>)> {
    let v = resp.headers().get(reqwest::header::CONTENT_RANGE)?.to_str().ok()?;
    let rest = v.strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, _) = range.split_once('-')?;
    Some((start.trim().parse().ok()?, total.trim().parse().ok()))
}

async fn from_http(
    url: &str,
    part: &Path,
    dest: &Path,
    client: &reqwest::Client,
    cancel: &AtomicBool,
    max_bytes: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> ConvResult<u64> {
    let too_large = |size: u64| ConvError::FileTooLarge { path: url.to_string(), size, limit: max_bytes };
    let mut file = tokio::fs::OpenOptions::new().create(true).append(true).open(part).await.map_err(io_err(dest))?;
    let mut have = file.metadata().await.map_err(io_err(dest))?.len();
    let mut total: Option<u64> = None;
    let mut attempts = 0u32;
    let mut throttle = Throttle::new(progress);
    let mut last_error = String::new();
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(ConvError::TransferCancelled);
        }
        if total.is_some_and(|t| have >= t) {
            break;
        }
        if attempts >= MAX_ATTEMPTS {
            return Err(ConvError::DownloadFailed(format!("{url}: gave up after {attempts} attempts: {last_error}")));
        }
        if attempts > 0 {
            tokio::time::sleep(Duration::from_millis(50 * u64::from(attempts))).await;
        }
        attempts += 1;
        let mut req = client.get(url);
        if have > 0 {
            req = req.header(reqwest::header::RANGE, format!("bytes={have}-"));
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) if e.is_connect() && have == 0 => {
                return Err(ConvError::HttpFailed(format!("{url}: {}", with_causes(&e))));
            }
            Err(e) => {
                last_error = with_causes(&e);
                continue;
            }
        };
        let status = resp.status();
        if status == reqwest::StatusCode::PARTIAL_CONTENT {
            match content_range(&resp) {
                Some((start, t)) if start == have => total = t.or(total),
                _ => {
                    // The server resumed from elsewhere: start over.
                    file.set_len(0).await.map_err(io_err(dest))?;
                    have = 0;
                    continue;
                }
            }
        } else if status.is_success() {
            if have > 0 {
                file.set_len(0).await.map_err(io_err(dest))?;
                have = 0;
            }
            total = resp.content_length();
        } else if status == reqwest::StatusCode::RANGE_NOT_SATISFIABLE && have > 0 {
            file.set_len(0).await.map_err(io_err(dest))?;
            have = 0;
            continue;
        } else {
            return Err(ConvError::HttpFailed(format!("{url}: HTTP {status}")));
        }
        if let Some(t) = total.filter(|t| *t > max_bytes) {
            return Err(too_large(t));
        }
        last_error.clear();
        throttle.update(have, total.unwrap_or(0));
        let mut resp = resp;
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(ConvError::TransferCancelled);
            }
            match resp.chunk().await {
                Ok(Some(bytes)) => {
                    if have + bytes.len() as u64 > max_bytes {
                        return Err(too_large(have + bytes.len() as u64));
                    }
                    file.write_all(&bytes).await.map_err(io_err(dest))?;
                    have += bytes.len() as u64;
                    throttle.update(have, total.unwrap_or(0));
                }
                Ok(None) => break,
                Err(e) => {
                    last_error = e.to_string();
                    break;
                }
            }
        }
        file.flush().await.map_err(io_err(dest))?;
        match total {
            Some(t) if have < t => continue, // the body ended early: resume
            Some(t) if have > t => {
                return Err(ConvError::DownloadFailed(format!("{url}: got {have} bytes, expected {t}")));
            }
            Some(_) => break,
            // No length given: the end of the body is the end of the file.
            None if last_error.is_empty() => break,
            None => continue,
        }
    }
    let size = have;
    throttle.update(size, size);
    finish(part, dest, file).await?;
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_is_monotonic_and_reports_the_end() {
        let mut seen = Vec::new();
        {
            let mut t = Throttle::new(|c, total| seen.push((c, total)));
            t.update(0, 100);
            t.update(10, 100);
            t.update(5, 100);
            t.update(100, 100);
        }
        assert_eq!(seen.first(), Some(&(0, 100)));
        assert_eq!(seen.last(), Some(&(100, 100)));
        assert!(seen.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
