#!/usr/bin/env python3
"""Drives a running `timsg serve` through every API of its OpenAPI document, as two users,
with valid and invalid calls, media and a search, so every metric has series.

usage: drive.py BASE_URL SIG_ALICE SIG_BOB WORK_DIR"""
import json
import os
import sys
import urllib.request

base, sig_alice, sig_bob, work = sys.argv[1:5]
sigs = {"alice": sig_alice, "bob": sig_bob}


def call(api, body, user="alice"):
    req = urllib.request.Request(
        f"{base}/v1/{api}",
        data=json.dumps(body).encode(),
        headers={"X-TIM-User": user, "X-TIM-UserSig": sigs[user]},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        return json.load(e)


def text(t):
    return {"message_elem_array": [{"elem_type": 0, "text_elem_content": t}]}


sent = call("TIMMsgSendMessage", {"conv_id": "bob", "conv_type": 1, "param": text("hello dashboards")})
assert sent["code"] == 0, sent
msg = sent["json_params"]
# Media over the service: uploaded with PUT /v1/blobs, then sent by the URL it answers.
put = urllib.request.Request(
    f"{base}/v1/blobs",
    data=os.urandom(200_000),
    headers={"X-TIM-User": "alice", "X-TIM-UserSig": sig_alice},
    method="PUT",
)
with urllib.request.urlopen(put) as r:
    blob_url = json.load(r)["url"]
upload = call("TIMMsgSendMessage", {"conv_id": "bob", "conv_type": 1, "param": {"message_elem_array": [{"elem_type": 4, "file_elem_file_path": blob_url}]}})
assert upload["code"] == 0, upload
url = upload["json_params"]["message_elem_array"][0]["file_elem_url"]
calls = {
    "TIMMsgSendNewMsg": {"conv_id": "bob", "conv_type": 1, "param": text("second")},
    "TIMMsgCancelSend": {"conv_id": "bob", "conv_type": 1, "param": "no-such-id"},
    "TIMMsgFindMessages": {"param": [msg["message_msg_id"]]},
    "TIMMsgReportReaded": {"conv_id": "alice", "conv_type": 1},
    "TIMMsgMarkAllMessageAsRead": {},
    "TIMMsgRevoke": {"conv_id": "bob", "conv_type": 1, "param": msg},
    "TIMMsgFindByMsgLocatorList": {"conv_id": "bob", "conv_type": 1, "param": [{"message_locator_seq": 1}]},
    "TIMMsgImportMsgList": {"conv_id": "bob", "conv_type": 1, "param": [text("imported")]},
    "TIMMsgSaveMsg": {"conv_id": "bob", "conv_type": 1, "param": text("saved")},
    "TIMMsgGetMsgList": {"conv_id": "bob", "conv_type": 1, "param": {"msg_getmsglist_param_count": 10}},
    "TIMMsgDelete": {"conv_id": "bob", "conv_type": 1, "param": {"msg_delete_param_msg": {"message_seq": 2}}},
    "TIMMsgListDelete": {"conv_id": "bob", "conv_type": 1, "param": [{"message_seq": 2}]},
    "TIMMsgClearHistoryMessage": {"conv_id": "carol", "conv_type": 1},
    "TIMMsgSetC2CReceiveMessageOpt": {"param": ["carol"], "opt": 2},
    "TIMMsgGetC2CReceiveMessageOpt": {"param": ["carol"]},
    "TIMMsgSetGroupReceiveMessageOpt": {"conv_id": "dash-group", "opt": 0},
    "TIMMsgDownloadElemToPath": {"param": {"msg_download_elem_param_type": 1, "msg_download_elem_param_id": "", "msg_download_elem_param_business_id": 0, "msg_download_elem_param_url": url}, "path": "copy.bin"},
    "TIMMsgDownloadMergerMessage": {"param": {"message_elem_array": [{"elem_type": 12, "merge_elem_relay_json_key": "x-1"}]}},
    "TIMMsgSearchLocalMessages": {"param": {"msg_search_param_keyword_array": ["hello"]}},
    "TIMMsgSetLocalCustomData": {"param": dict(msg, message_conv_id="bob", message_custom_str="x")},
    "TIMMsgBatchSend": {"param": {"msg_batch_send_param_identifier_array": ["bob", "bad\tid"], "msg_batch_send_param_msg": text("batch")}},
    "TIMGroupCreate": {"param": {"create_group_param_group_id": "dash-group", "create_group_param_group_name": "d", "create_group_param_group_member_array": [{"group_member_info_identifier": "bob"}]}},
    "TIMGroupJoin": {"conv_id": "dash-group"},
    "TIMGroupInviteMember": {"param": {"group_invite_member_param_group_id": "dash-group", "group_invite_member_param_identifier_array": ["carol"]}},
    "TIMGroupDeleteMember": {"param": {"group_delete_member_param_group_id": "dash-group", "group_delete_member_param_identifier_array": ["carol"]}},
    "TIMGroupQuit": {"conv_id": "dash-group"},
    "TIMGroupDelete": {"conv_id": "dash-group"},
}
doc = json.load(urllib.request.urlopen(f"{base}/v1/openapi.json"))
apis = [p[len("/v1/"):] for p, ops in doc["paths"].items() if "post" in ops]
for api in apis:
    body = calls.get(api, {"conv_id": "bob", "conv_type": 1, "param": text("driven")})
    r = call(api, body)
    print(f"{api}: {r['code']}")
    call(api, {"conv_id": "bob", "conv_type": 9, "param": "{"})  # a refused call too
call("TIMMsgSendMessage", {"conv_id": "dash-group", "conv_type": 2, "param": text("group message")})
call("TIMMsgGetMsgList", {"conv_id": "alice", "conv_type": 1}, user="bob")
