//! A remote user's folder in the data directory: where `TIMMsgDownloadElemToPath` over the
//! service writes, and what `GET /v1/files/<path>` reads. The `path` a remote caller gives is
//! relative to their folder and resolved here, so it can only ever name a file inside it: no
//! absolute paths, no `..` or `.`, no component that is a symbolic link, no name that is not a
//! plain file name — checked component by component, then the resolved parent is compared with
//! the canonical folder, so nothing outside it is created, read or replaced.

use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

use crate::error::{TimError, code};

/// Longest relative path accepted, in bytes.
pub const MAX_PATH_BYTES: usize = 1024;
/// Deepest folder nesting accepted.
pub const MAX_DEPTH: usize = 16;

/// The folder of `user` under `root`: `u-<hex of the user ID>`, since an ID may hold `/` or
/// be `..`.
pub fn user_folder(root: &Path, user: &str) -> PathBuf {
    root.join(format!("u-{}", timsg_actors::media::blob::to_hex(user.as_bytes())))
}

fn refuse(why: impl Into<String>) -> TimError {
    super::forbidden("server_path", why.into())
}

/// The components of a relative path a remote caller gave, each a plain name, or the refusal.
pub fn plain_components(path: &str) -> Result<Vec<&OsStr>, TimError> {
    if path.is_empty() || path.len() > MAX_PATH_BYTES || path.contains('\0') || path.contains('\\') {
        return Err(refuse(format!(
            "path {path:?}: give a file name relative to your folder (1 to {MAX_PATH_BYTES} bytes)"
        )));
    }
    let mut out = Vec::new();
    for c in Path::new(path).components() {
        match c {
            Component::Normal(name) if !name.is_empty() => out.push(name),
            _ => {
                return Err(refuse(format!(
                    "path {path:?}: over the service a path is relative to your folder: no leading '/', no '.' or '..'"
                )));
            }
        }
    }
    if out.is_empty() || out.len() > MAX_DEPTH {
        return Err(refuse(format!("path {path:?}: 1 to {MAX_DEPTH} names")));
    }
    Ok(out)
}

/// Refuses `p` if it is a symbolic link (a missing `p` is fine).
fn not_a_link(p: &Path, shown: &str) -> Result<(), TimError> {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.file_type().is_symlink() => Err(refuse(format!("path {shown:?} goes through a link"))),
        _ => Ok(()),
    }
}

/// Where a download of `path` by `user` goes: inside their folder, whose missing folders are
/// made. The destination may be an existing file of theirs (it is replaced whole) but not a
/// folder or a link.
pub fn download_destination(root: &Path, user: &str, path: &str) -> Result<PathBuf, TimError> {
    let names = plain_components(path)?;
    let folder = user_folder(root, user);
    let io = |e: std::io::Error| TimError::new(code::ERR_SDK_COMM_FILE_OPEN_FAILED, format!("your folder: {e}"));
    std::fs::create_dir_all(&folder).map_err(io)?;
    let canonical_root = folder.canonicalize().map_err(io)?;
    let mut dir = canonical_root.clone();
    for name in &names[..names.len() - 1] {
        dir.push(name);
        not_a_link(&dir, path)?;
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => {}
            Err(e) => return Err(io(e)),
        }
    }
    let resolved_parent = dir.canonicalize().map_err(io)?;
    if !resolved_parent.starts_with(&canonical_root) {
        return Err(refuse(format!("path {path:?} leaves your folder")));
    }
    let dest = resolved_parent.join(names[names.len() - 1]);
    not_a_link(&dest, path)?;
    if dest.is_dir() {
        return Err(refuse(format!("path {path:?} is a folder")));
    }
    Ok(dest)
}

/// The existing file `path` of `user`, for reading back.
pub fn existing_file(root: &Path, user: &str, path: &str) -> Result<PathBuf, TimError> {
    let names = plain_components(path)?;
    let folder = user_folder(root, user);
    let missing = || TimError::new(code::ERR_SDK_COMM_FILE_NOT_FOUND, format!("no file {path:?} in your folder"));
    let canonical_root = folder.canonicalize().map_err(|_| missing())?;
    let mut p = canonical_root.clone();
    for name in &names {
        p.push(name);
        not_a_link(&p, path)?;
    }
    let resolved = p.canonicalize().map_err(|_| missing())?;
    if !resolved.starts_with(&canonical_root) || !resolved.is_file() {
        return Err(missing());
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_users_folder() {
        let root = tempfile::tempdir().unwrap();
        let dest = download_destination(root.path(), "alice", "media/a.png").unwrap();
        let folder = user_folder(root.path(), "alice").canonicalize().unwrap();
        assert_eq!(dest, folder.join("media").join("a.png"));
        for bad in ["/etc/passwd", "../x", "a/../../x", "./a", "", "a//..", "a\\b", "a\0b"] {
            let e = download_destination(root.path(), "alice", bad).unwrap_err();
            assert_eq!(e.code, 7014, "{bad:?}: {}", e.desc);
        }
        // A user ID is never a path of its own.
        assert_ne!(user_folder(root.path(), "../bob"), root.path().join("../bob"));
        assert!(user_folder(root.path(), "../bob").starts_with(root.path()));
    }

    #[test]
    fn links_inside_the_folder_are_not_followed() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("victim"), b"keep").unwrap();
        let folder = user_folder(root.path(), "alice");
        std::fs::create_dir_all(&folder).unwrap();
        std::os::unix::fs::symlink(outside.path(), folder.join("out")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("victim"), folder.join("v")).unwrap();
        assert_eq!(download_destination(root.path(), "alice", "out/victim").unwrap_err().code, 7014);
        assert_eq!(download_destination(root.path(), "alice", "v").unwrap_err().code, 7014);
        assert_eq!(existing_file(root.path(), "alice", "v").unwrap_err().code, 7014);
        std::fs::write(folder.join("mine"), b"x").unwrap();
        assert_eq!(existing_file(root.path(), "alice", "mine").unwrap(), folder.canonicalize().unwrap().join("mine"));
        assert_eq!(existing_file(root.path(), "alice", "nope").unwrap_err().code, 7004);
        assert_eq!(std::fs::read(outside.path().join("victim")).unwrap(), b"keep");
    }
}
