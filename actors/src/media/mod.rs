//! Media: the content-addressed blob store, uploading the files a message names while it waits
//! in the send queue, and downloading blobs and http(s) URLs to a path.

pub mod blob;
pub mod download;
pub mod image_info;
pub mod upload;
