//! Uploading a message's media while it waits in the send queue: each element that names a
//! local file is checked (missing, empty, too large, unreadable), copied into the blob store
//! with progress, and rewritten to carry the blob's ID, URL and size; images are decoded to fill
//! their format and size and to make the large and thumbnail renditions. Merged messages are
//! stored as a blob named by the element's relay key.
//!
//! Runs on a blocking thread; checks `cancel` between chunks.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::element::{ElementBody, ImageRendition};
use crate::error::{ConvError, ConvResult};
use crate::media::blob::{BlobInfo, BlobStore, PutError};
use crate::media::image_info::{self, DecodeRefusal};
use crate::message::MessageContent;

/// Largest file per element kind, bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaLimits {
    pub image: u64,
    pub sound: u64,
    pub video: u64,
    pub file: u64,
    /// Pixels an image may have to be decoded (its renditions are made from the decoded
    /// pixels); larger ones are refused from their header, before decoding.
    pub image_pixels: u64,
}

impl Default for MediaLimits {
    /// The SDK's limits: image and sound 28 MB, video and file 100 MB; images up to 50
    /// megapixels (a phone camera's largest; 200 MB decoded as RGBA).
    fn default() -> Self {
        const MB: u64 = 1024 * 1024;
        MediaLimits { image: 28 * MB, sound: 28 * MB, video: 100 * MB, file: 100 * MB, image_pixels: 50_000_000 }
    }
}

/// Opens a file to upload after the SDK's checks.
fn open_checked(path: &str, limit: u64) -> ConvResult<(File, u64)> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ConvError::FileNotFound(path.to_string())),
        Err(e) => return Err(ConvError::FileUnreadable(format!("{path}: {e}"))),
    };
    if meta.is_dir() {
        return Err(ConvError::FileUnreadable(format!("{path} is a directory")));
    }
    let size = meta.len();
    if size == 0 {
        return Err(ConvError::FileEmpty(path.to_string()));
    }
    if size > limit {
        return Err(ConvError::FileTooLarge { path: path.to_string(), size, limit });
    }
    let file = File::open(path).map_err(|e| ConvError::FileUnreadable(format!("{path}: {e}")))?;
    Ok((file, size))
}

/// A path naming a stored blob by its URL (what `PUT /v1/blobs` answers, or a URL a message
/// carried): the blob itself, without a copy. This is how callers that may not name files on
/// this machine (the service's users) attach media.
fn stored_blob(
    blobs: &BlobStore,
    path: &str,
    limit: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> Option<ConvResult<BlobInfo>> {
    let hash = blobs.hash_of_url(path)?;
    let size = match std::fs::metadata(blobs.path_of(hash)) {
        Ok(m) => m.len(),
        Err(_) => return Some(Err(ConvError::FileNotFound(path.to_string()))),
    };
    if size > limit {
        return Some(Err(ConvError::FileTooLarge { path: path.to_string(), size, limit }));
    }
    progress(size, size);
    Some(Ok(BlobInfo { hash: hash.to_string(), size }))
}

fn put_file(
    blobs: &BlobStore,
    path: &str,
    limit: u64,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(u64, u64),
) -> ConvResult<BlobInfo> {
    if let Some(stored) = stored_blob(blobs, path, limit, progress) {
        return stored;
    }
    let (file, size) = open_checked(path, limit)?;
    let stored = blobs.put_reader(file, size, cancel, progress);
    if let Ok(info) = &stored {
        metrics::counter!("timsg_upload_bytes_total").increment(info.size);
    }
    stored.map_err(|e| match e {
        PutError::Cancelled => ConvError::SendCancelled,
        PutError::Source(e) => ConvError::FileUnreadable(format!("{path}: {e}")),
        PutError::Store(e) => ConvError::UploadFailed(e.to_string()),
    })
}

fn rendition(blobs: &BlobStore, info: &BlobInfo, width: u32, height: u32) -> ImageRendition {
    ImageRendition {
        id: info.hash.clone(),
        width: i64::from(width),
        height: i64::from(height),
        size: info.size as i64,
        url: blobs.url_of(&info.hash),
    }
}

/// Uploads every element of `content` that needs it; `progress(index, current, total)`.
pub fn upload_content(
    content: &MessageContent,
    blobs: &BlobStore,
    limits: &MediaLimits,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(usize, u64, u64),
) -> ConvResult<MessageContent> {
    let mut out = content.clone();
    for (index, element) in out.elements.iter_mut().enumerate() {
        if !element.needs_upload() {
            continue;
        }
        let mut step = |cur: u64, total: u64| progress(index, cur, total);
        match &mut element.body {
            ElementBody::Image(img) => {
                let info = put_file(blobs, &img.orig_path, limits.image, cancel, &mut step)?;
                let decoded = match image_info::decode_bounded(&blobs.path_of(&info.hash), limits.image_pixels) {
                    Ok(d) => d,
                    Err(DecodeRefusal::NotAnImage) => return Err(ConvError::NotAnImage(img.orig_path.clone())),
                    Err(DecodeRefusal::TooManyPixels { width, height }) => {
                        metrics::counter!("timsg_limits_refused_total", "limit" => "image_pixels").increment(1);
                        return Err(ConvError::ImageTooLarge {
                            path: img.orig_path.clone(),
                            width,
                            height,
                            limit: limits.image_pixels,
                        });
                    }
                };
                let (w, h) = (decoded.image.width(), decoded.image.height());
                img.format = image_info::format_number(decoded.format);
                img.orig = rendition(blobs, &info, w, h);
                let make = |short: u32| -> ConvResult<ImageRendition> {
                    match image_info::scaled(&decoded.image, short) {
                        None => Ok(img.orig.clone()),
                        Some(small) => {
                            let bytes = image_info::encode(&small, decoded.format)
                                .ok_or_else(|| ConvError::UploadFailed("cannot encode a rendition".into()))?;
                            let info = blobs.put_bytes(&bytes).map_err(|e| ConvError::UploadFailed(e.to_string()))?;
                            Ok(rendition(blobs, &info, small.width(), small.height()))
                        }
                    }
                };
                let large = make(image_info::LARGE_SHORT_SIDE)?;
                let thumb = make(image_info::THUMB_SHORT_SIDE)?;
                img.large = large;
                img.thumb = thumb;
            }
            ElementBody::Sound(s) => {
                let info = put_file(blobs, &s.file_path, limits.sound, cancel, &mut step)?;
                s.file_size = info.size as i64;
                s.url = blobs.url_of(&info.hash);
                s.file_id = info.hash;
                s.download_flag = 2;
            }
            ElementBody::File(f) => {
                let info = put_file(blobs, &f.file_path, limits.file, cancel, &mut step)?;
                if f.file_name.is_empty() && blobs.hash_of_url(&f.file_path).is_some() {
                    f.file_name = info.hash.clone();
                } else if f.file_name.is_empty() {
                    f.file_name = Path::new(&f.file_path)
                        .file_name()
                        .map(|n| n.to_string_lossy().to_string())
                        .unwrap_or_default();
                }
                f.file_size = info.size as i64;
                f.url = blobs.url_of(&info.hash);
                f.file_id = info.hash;
                f.download_flag = 2;
            }
            ElementBody::Video(v) => {
                let info = put_file(blobs, &v.video_path, limits.video, cancel, &mut step)?;
                v.video_size = info.size as i64;
                v.video_url = blobs.url_of(&info.hash);
                v.video_id = info.hash;
                v.video_download_flag = 2;
                if !v.image_path.is_empty() {
                    let snap = put_file(blobs, &v.image_path, limits.image, cancel, &mut |_, _| {})?;
                    if v.image_width == 0
                        && let Ok(d) = image_info::decode_bounded(&blobs.path_of(&snap.hash), limits.image_pixels)
                    {
                        v.image_width = i64::from(d.image.width());
                        v.image_height = i64::from(d.image.height());
                    }
                    v.image_size = snap.size as i64;
                    v.image_url = blobs.url_of(&snap.hash);
                    v.image_id = snap.hash;
                    v.image_download_flag = 2;
                }
            }
            ElementBody::Merge(m) => {
                let text = m.messages.take().unwrap_or_else(|| Arc::from("[]"));
                let info = blobs.put_bytes(text.as_bytes()).map_err(|e| ConvError::UploadFailed(e.to_string()))?;
                m.relay_json_key = blobs.relay_key(&info.hash, m.depth);
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::element::{Element, FileElement, ImageElement};

    #[test]
    fn file_checks_map_to_their_errors() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::open(&dir.path().join("blobs"), "b://").unwrap();
        let never = AtomicBool::new(false);
        let file = |p: &Path| {
            MessageContent::with_elements(vec![Element::new(ElementBody::File(Box::new(FileElement {
                file_path: p.to_string_lossy().to_string(),
                ..Default::default()
            })))])
        };
        let run =
            |c: &MessageContent, limits: MediaLimits| upload_content(c, &blobs, &limits, &never, &mut |_, _, _| {});
        let missing = dir.path().join("missing");
        assert!(matches!(run(&file(&missing), MediaLimits::default()), Err(ConvError::FileNotFound(_))));
        let empty = dir.path().join("empty");
        std::fs::write(&empty, b"").unwrap();
        assert!(matches!(run(&file(&empty), MediaLimits::default()), Err(ConvError::FileEmpty(_))));
        let big = dir.path().join("big");
        std::fs::write(&big, b"0123456789").unwrap();
        let small = MediaLimits { file: 5, ..Default::default() };
        assert!(matches!(run(&file(&big), small), Err(ConvError::FileTooLarge { size: 10, .. })));
        assert!(matches!(run(&file(dir.path()), MediaLimits::default()), Err(ConvError::FileUnreadable(_))));
        let ok = run(&file(&big), MediaLimits::default()).unwrap();
        let ElementBody::File(f) = &ok.elements[0].body else { panic!() };
        assert_eq!((f.file_size, f.file_name.as_str()), (10, "big"));
        assert_eq!(f.url, blobs.url_of(&f.file_id));
        let not_image = MessageContent::with_elements(vec![Element::new(ElementBody::Image(Box::new(ImageElement {
            orig_path: big.to_string_lossy().to_string(),
            ..Default::default()
        })))]);
        assert!(matches!(run(&not_image, MediaLimits::default()), Err(ConvError::NotAnImage(_))));
    }
}
