//! The trust boundary: who may name a file, who may name a URL.
//!
//! An embedded caller (the Rust API, the C ABI) is the device, as in the SDK: the paths it
//! names are its own files and the URLs it names are fetched as asked. A remote caller (a user
//! of `timsg serve`) is not: it never names a path on the server and never makes the server
//! fetch a URL of its choosing. Each [`crate::Session`] carries its [`Access`]; the checks are
//! here, in one place, and every way in to the service goes through a remote session.
//!
//! For a remote caller:
//! - media it sends is named by the URL `PUT /v1/blobs` answered (a capability of the blob,
//!   see `timsg_actors::media::blob`), never by a path;
//! - downloads go into its own folder of the data directory ([`user_files`]) and come from a
//!   blob it holds the URL of, or from a host on the fetch allow-list, dialled only at public
//!   addresses (`timsg_actors::media::fetch_guard`);
//! - new conversations, new groups and uploaded bytes are limited per user ([`limits`]).

pub mod limits;
pub mod user_files;

use std::path::PathBuf;
use std::sync::Arc;

use timsg_actors::Engine;
use timsg_actors::element::{Element, ElementBody};
use timsg_actors::media::download::DownloadSource;
use timsg_actors::media::fetch_guard;
use timsg_actors::message::MessageContent;

use crate::error::{TimError, code};
pub use limits::{LimitBook, UserLimits};

/// What a session's caller may name.
#[derive(Debug, Clone, Default)]
pub enum Access {
    /// The device itself: local paths and any URL, as the SDK.
    #[default]
    Device,
    /// A caller over the network: see the module doc.
    Remote(Arc<RemotePolicy>),
}

/// The rules for remote callers, shared by all their sessions.
#[derive(Debug)]
pub struct RemotePolicy {
    /// Holds one folder per user for their downloads.
    pub files_root: PathBuf,
    /// Hosts remote callers may have fetched (see `fetch_guard::host_allowed`); empty = none.
    pub fetch_allow: Vec<String>,
    pub limits: LimitBook,
}

/// A refusal at the trust boundary (7014), counted under `limit`.
pub(crate) fn forbidden(limit: &'static str, why: String) -> TimError {
    metrics::counter!("timsg_limits_refused_total", "limit" => limit).increment(1);
    TimError::new(code::ERR_SDK_INVALID_OPERATION, why)
}

/// The file paths sending `element` would read.
fn paths_read_by(element: &Element) -> Vec<&str> {
    if !element.needs_upload() {
        return Vec::new();
    }
    let paths = match &element.body {
        ElementBody::Image(i) => vec![i.orig_path.as_str()],
        ElementBody::Sound(s) => vec![s.file_path.as_str()],
        ElementBody::File(f) => vec![f.file_path.as_str()],
        ElementBody::Video(v) => vec![v.video_path.as_str(), v.image_path.as_str()],
        _ => Vec::new(),
    };
    paths.into_iter().filter(|p| !p.is_empty()).collect()
}

impl RemotePolicy {
    /// Refuses media named by anything but a blob URL this server signed.
    pub fn check_media(&self, engine: &Engine, content: &MessageContent) -> Result<(), TimError> {
        for element in &content.elements {
            for path in paths_read_by(element) {
                if engine.blobs().hash_of_url(path).is_none() {
                    return Err(forbidden(
                        "server_path",
                        format!(
                            "{path:?}: over the service, media is uploaded with PUT /v1/blobs and named by the \
                             url it answers, never by a path on the server"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Where a remote download reads from, and whether it is a guarded network fetch.
    pub fn download_source(&self, engine: &Engine, url: &str) -> Result<(DownloadSource, bool), TimError> {
        if url.is_empty() {
            return Err(forbidden(
                "server_path",
                "over the service a download names the media by its url (msg_download_elem_param_url)".into(),
            ));
        }
        if let Some(hash) = engine.blobs().hash_of_url(url) {
            return Ok((DownloadSource::Blob(hash.to_string()), false));
        }
        if engine.blobs().is_own_url(url) {
            return Err(forbidden("fetch_denied", format!("{url:?} is not a media url this server gave out")));
        }
        fetch_guard::check_url(url, &self.fetch_allow).map_err(|why| forbidden("fetch_denied", why))?;
        Ok((DownloadSource::Http(url.to_string()), true))
    }

    /// Where a remote download of `path` by `user` is written.
    pub fn download_destination(&self, user: &str, path: &str) -> Result<PathBuf, TimError> {
        user_files::download_destination(&self.files_root, user, path)
    }
}
