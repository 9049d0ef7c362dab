//! The 22 `TIMMsg*` functions. Each checks its C arguments, then hands the call to the JSON
//! dispatcher under its own name; the result comes back through `cb` on the callback thread.

use std::ffi::{c_char, c_int, c_void};

use super::callbacks::CommCallback;
use super::cstr;
use super::state::{call_api, guarded_call};
use crate::dispatch::ApiCall;

/// A call shaped `(conv_id, conv_type, json, cb, user_data)`.
///
/// # Safety
/// The pointers are NULL or NUL-terminated strings.
unsafe fn conv_call(
    api: &str,
    conv_id: *const c_char,
    conv_type: c_int,
    json: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    guarded_call(|| {
        // SAFETY: forwarded from the caller.
        let conv_id = unsafe { cstr::opt(conv_id) }?;
        // SAFETY: as above.
        let json = unsafe { cstr::opt(json) }?.unwrap_or("");
        let call = ApiCall { api, conv_id, conv_type: conv_type.max(0) as u32, json, ..Default::default() };
        call_api(&call, cb, user_data, |_| {})
    })
}

/// A call shaped `(json, cb, user_data)`.
///
/// # Safety
/// `json` is NULL or a NUL-terminated string.
unsafe fn json_call(api: &str, json: *const c_char, cb: CommCallback, user_data: *const c_void) -> c_int {
    guarded_call(|| {
        // SAFETY: forwarded from the caller.
        let json = unsafe { cstr::req(json) }?;
        call_api(&ApiCall { api, json, ..Default::default() }, cb, user_data, |_| {})
    })
}

/// # Safety
/// String arguments are NULL or NUL-terminated; `message_id_buffer` is NULL or 128 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMMsgSendMessage(
    conv_id: *const c_char,
    conv_type: c_int,
    json_msg_param: *const c_char,
    message_id_buffer: *mut c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    guarded_call(|| {
        // SAFETY: forwarded from the caller.
        let conv = unsafe { cstr::opt(conv_id) }?;
        // SAFETY: as above.
        let json = unsafe { cstr::req(json_msg_param) }?;
        let call = ApiCall {
            api: "TIMMsgSendMessage",
            conv_id: conv,
            conv_type: conv_type.max(0) as u32,
            json,
            ..Default::default()
        };
        call_api(&call, cb, user_data, |id| {
            // The ID is in the buffer before any callback can run.
            // SAFETY: NULL or 128 bytes, as the API requires.
            unsafe { cstr::copy_to_buffer(id.unwrap_or(""), message_id_buffer) };
        })
    })
}

/// # Safety
/// String arguments are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMMsgSendNewMsg(
    conv_id: *const c_char,
    conv_type: c_int,
    json_msg_param: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    if json_msg_param.is_null() {
        return crate::error::code::TIM_ERR_PARAM;
    }
    // SAFETY: forwarded.
    unsafe { conv_call("TIMMsgSendNewMsg", conv_id, conv_type, json_msg_param, cb, user_data) }
}

/// # Safety
/// String arguments are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMMsgCancelSend(
    conv_id: *const c_char,
    conv_type: c_int,
    message_id: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    if message_id.is_null() {
        return crate::error::code::TIM_ERR_PARAM;
    }
    // SAFETY: forwarded.
    unsafe { conv_call("TIMMsgCancelSend", conv_id, conv_type, message_id, cb, user_data) }
}

/// # Safety
/// `json_message_id_array` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMMsgFindMessages(
    json_message_id_array: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { json_call("TIMMsgFindMessages", json_message_id_array, cb, user_data) }
}

/// # Safety
/// String arguments are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMMsgReportReaded(
    conv_id: *const c_char,
    conv_type: c_int,
    json_msg_param: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { conv_call("TIMMsgReportReaded", conv_id, conv_type, json_msg_param, cb, user_data) }
}

#[unsafe(no_mangle)]
pub extern "C" fn TIMMsgMarkAllMessageAsRead(cb: CommCallback, user_data: *const c_void) -> c_int {
    guarded_call(|| {
        call_api(&ApiCall { api: "TIMMsgMarkAllMessageAsRead", ..Default::default() }, cb, user_data, |_| {})
    })
}

/// # Safety
/// String arguments are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMMsgRevoke(
    conv_id: *const c_char,
    conv_type: c_int,
    json_msg_param: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { conv_call("TIMMsgRevoke", conv_id, conv_type, json_msg_param, cb, user_data) }
}

/// # Safety
/// String arguments are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMMsgFindByMsgLocatorList(
    conv_id: *const c_char,
    conv_type: c_int,
    json_msg_locator_array: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { conv_call("TIMMsgFindByMsgLocatorList", conv_id, conv_type, json_msg_locator_array, cb, user_data) }
}

/// # Safety
/// String arguments are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMMsgImportMsgList(
    conv_id: *const c_char,
    conv_type: c_int,
    json_msg_array: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { conv_call("TIMMsgImportMsgList", conv_id, conv_type, json_msg_array, cb, user_data) }
}

/// # Safety
/// String arguments are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMMsgSaveMsg(
    conv_id: *const c_char,
    conv_type: c_int,
    json_msg_param: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { conv_call("TIMMsgSaveMsg", conv_id, conv_type, json_msg_param, cb, user_data) }
}

/// # Safety
/// String arguments are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMMsgGetMsgList(
    conv_id: *const c_char,
    conv_type: c_int,
    json_get_msg_param: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { conv_call("TIMMsgGetMsgList", conv_id, conv_type, json_get_msg_param, cb, user_data) }
}

/// # Safety
/// String arguments are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMMsgDelete(
    conv_id: *const c_char,
    conv_type: c_int,
    json_msgdel_param: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { conv_call("TIMMsgDelete", conv_id, conv_type, json_msgdel_param, cb, user_data) }
}

/// # Safety
/// String arguments are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMMsgListDelete(
    conv_id: *const c_char,
    conv_type: c_int,
    json_msg_array: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { conv_call("TIMMsgListDelete", conv_id, conv_type, json_msg_array, cb, user_data) }
}

/// # Safety
/// `conv_id` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMMsgClearHistoryMessage(
    conv_id: *const c_char,
    conv_type: c_int,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { conv_call("TIMMsgClearHistoryMessage", conv_id, conv_type, std::ptr::null(), cb, user_data) }
}

/// # Safety
/// `json_identifier_array` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMMsgSetC2CReceiveMessageOpt(
    json_identifier_array: *const c_char,
    opt: c_int,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    guarded_call(|| {
        // SAFETY: forwarded from the caller.
        let json = unsafe { cstr::req(json_identifier_array) }?;
        let opt = u32::try_from(opt).map_err(|_| crate::error::code::TIM_ERR_PARAM)?;
        call_api(
            &ApiCall { api: "TIMMsgSetC2CReceiveMessageOpt", json, opt, ..Default::default() },
            cb,
            user_data,
            |_| {},
        )
    })
}

/// # Safety
/// `json_identifier_array` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMMsgGetC2CReceiveMessageOpt(
    json_identifier_array: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { json_call("TIMMsgGetC2CReceiveMessageOpt", json_identifier_array, cb, user_data) }
}

/// # Safety
/// `group_id` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMMsgSetGroupReceiveMessageOpt(
    group_id: *const c_char,
    opt: c_int,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    guarded_call(|| {
        // SAFETY: forwarded from the caller.
        let group = unsafe { cstr::req(group_id) }?;
        let opt = u32::try_from(opt).map_err(|_| crate::error::code::TIM_ERR_PARAM)?;
        let call = ApiCall { api: "TIMMsgSetGroupReceiveMessageOpt", conv_id: Some(group), opt, ..Default::default() };
        call_api(&call, cb, user_data, |_| {})
    })
}

/// # Safety
/// String arguments are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMMsgDownloadElemToPath(
    json_download_elem_param: *const c_char,
    path: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    guarded_call(|| {
        // SAFETY: forwarded from the caller.
        let json = unsafe { cstr::req(json_download_elem_param) }?;
        // SAFETY: as above.
        let path = unsafe { cstr::req(path) }?;
        call_api(
            &ApiCall { api: "TIMMsgDownloadElemToPath", json, path: Some(path), ..Default::default() },
            cb,
            user_data,
            |_| {},
        )
    })
}

/// # Safety
/// `json_single_msg` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMMsgDownloadMergerMessage(
    json_single_msg: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { json_call("TIMMsgDownloadMergerMessage", json_single_msg, cb, user_data) }
}

/// # Safety
/// `json_search_message_param` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMMsgSearchLocalMessages(
    json_search_message_param: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { json_call("TIMMsgSearchLocalMessages", json_search_message_param, cb, user_data) }
}

/// # Safety
/// `json_msg_param` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMMsgSetLocalCustomData(
    json_msg_param: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { json_call("TIMMsgSetLocalCustomData", json_msg_param, cb, user_data) }
}

/// # Safety
/// `json_batch_send_param` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TIMMsgBatchSend(
    json_batch_send_param: *const c_char,
    cb: CommCallback,
    user_data: *const c_void,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { json_call("TIMMsgBatchSend", json_batch_send_param, cb, user_data) }
}
