//! The group calls that hold group conversations: `TIMGroupCreate`, `TIMGroupDelete`,
//! `TIMGroupJoin`, `TIMGroupQuit`, `TIMGroupInviteMember`, `TIMGroupDeleteMember`.

use std::ffi::{c_char, c_int, c_void};

use super::callbacks::CommCallback;
use super::cstr;
use super::state::{call_api, guarded_call};
use crate::dispatch::ApiCall;

/// # Safety
/// `group_id` is NULL or NUL-terminated.
unsafe fn group_call(api: &str, group_id: *const c_char, cb: CommCallback, user_data: *const c_void) -> c_int {
    guarded_call(|| {
        // SAFETY: forwarded from the caller.
        let group = unsafe { cstr::req(group_id) }?;
        call_api(&ApiCall { api, conv_id: Some(group), ..Default::default() }, cb, user_data, |_| {})
    })
}

/// # Safety
/// `json` is NULL or NUL-terminated.
unsafe fn json_call(api: &str, json: *const c_char, cb: CommCallback, user_data: *const c_void) -> c_int {
    guarded_call(|| {
        // SAFETY: forwarded from the caller.
        let json = unsafe { cstr::req(json) }?;
        call_api(&ApiCall { api, json, ..Default::default() }, cb, user_data, |_| {})
    })
}

/// # Safety
/// `json_group_create_param` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMGroupCreate(
    json_group_create_param: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { json_call("TIMGroupCreate", json_group_create_param, cb, user_data) }
}

/// # Safety
/// `group_id` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMGroupDelete(group_id: *const c_char, cb: CommCallback, user_data: *const c_void) -> c_int {
    // SAFETY: forwarded.
    unsafe { group_call("TIMGroupDelete", group_id, cb, user_data) }
}

/// # Safety
/// `group_id` and `hello_msg` are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMGroupJoin(
    group_id: *const c_char,
    hello_msg: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    guarded_call(|| {
        // SAFETY: forwarded from the caller.
        let group = unsafe { cstr::req(group_id) }?;
        // SAFETY: as above; the hello message is optional and, with no approval step, unused.
        let _hello = unsafe { cstr::opt(hello_msg) }?;
        call_api(&ApiCall { api: "TIMGroupJoin", conv_id: Some(group), ..Default::default() }, cb, user_data, |_| {})
    })
}

/// # Safety
/// `group_id` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMGroupQuit(group_id: *const c_char, cb: CommCallback, user_data: *const c_void) -> c_int {
    // SAFETY: forwarded.
    unsafe { group_call("TIMGroupQuit", group_id, cb, user_data) }
}

/// # Safety
/// `json_group_invite_param` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMGroupInviteMember(
    json_group_invite_param: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { json_call("TIMGroupInviteMember", json_group_invite_param, cb, user_data) }
}

/// # Safety
/// `json_group_delete_param` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMGroupDeleteMember(
    json_group_delete_param: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { json_call("TIMGroupDeleteMember", json_group_delete_param, cb, user_data) }
}
