//! C strings in and out: NULL and invalid UTF-8 are parameter errors; text handed to C never
//! holds an interior NUL.

use std::ffi::{CStr, CString, c_char};

use crate::error::code;

/// A C string argument that may be NULL.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string valid for the call.
pub unsafe fn opt<'a>(p: *const c_char) -> Result<Option<&'a str>, i32> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller promises a NUL-terminated string.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map(Some).map_err(|_| code::TIM_ERR_PARAM)
}

/// A C string argument that must be there.
///
/// # Safety
/// As [`opt`].
pub unsafe fn req<'a>(p: *const c_char) -> Result<&'a str, i32> {
    // SAFETY: forwarded.
    unsafe { opt(p) }?.ok_or(code::TIM_ERR_PARAM)
}

/// Text for C: interior NULs (impossible in our JSON, possible in descriptions) are dropped.
pub fn to_c(s: &str) -> CString {
    CString::new(s.replace('\0', "")).expect("NULs were removed")
}

/// Copies `s` into a caller's buffer of at least 128 bytes, truncated to 127 bytes plus NUL.
///
/// # Safety
/// `buf` is NULL or points to at least 128 writable bytes.
pub unsafe fn copy_to_buffer(s: &str, buf: *mut c_char) {
    if buf.is_null() {
        return;
    }
    let bytes = s.as_bytes();
    let n = bytes.len().min(127);
    // SAFETY: the caller promises 128 writable bytes; we write at most 128.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr().cast::<c_char>(), buf, n);
        *buf.add(n) = 0;
    }
}
