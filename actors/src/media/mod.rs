//! Media: the content-addressed blob store, uploading the files a message names while it waits
//! in the send queue, and downloading blobs and http(s) URLs to a path (guarded, for callers
//! that are not the device, by [`fetch_guard`]).

pub mod blob;
pub mod download;
pub mod fetch_guard;
pub mod image_info;
pub mod sweeper;
pub mod upload;
