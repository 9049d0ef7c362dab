/* Drives every function of libtimsg the way a TIM C SDK app does: lifecycle, all TIMMsg*
 * calls, the listeners, groups, and the error codes for bad input. argv[1] is a fresh data
 * directory. */
#include "harness.h"

#include <unistd.h>

static Inbox new_msgs, receipts, revokes, uploads;

static void on_new_msg(const char* json, const void* ud) { inbox_add((Inbox*)ud, json); }
static void on_receipt(const char* json, const void* ud) { inbox_add((Inbox*)ud, json); }
static void on_revoke(const char* json, const void* ud) { inbox_add((Inbox*)ud, json); }
static void on_update(const char* json, const void* ud) { (void)json; (void)ud; }
static void on_upload(const char* json, uint32_t index, uint32_t cur, uint32_t total, const void* ud) {
    char line[256];
    (void)json;
    snprintf(line, sizeof line, "upload index=%u cur=%u total=%u", index, cur, total);
    inbox_add((Inbox*)ud, line);
}

static Result r;

static void login(const char* user) {
    CHECK(CALL(&r, TIMLogin(user, "any sig", on_result, &r)) == ERR_SUCC, "login %s: %s", user, r.desc);
    CHECK(TIMGetLoginStatus() == kTIMLoginStatus_Logined, "logged in");
}

static void logout(void) {
    CHECK(CALL(&r, TIMLogout(on_result, &r)) == ERR_SUCC, "logout");
    CHECK(TIMGetLoginStatus() == kTIMLoginStatus_UnLogined, "logged out");
}

/* Sends a text and copies the sent message JSON into `out`. */
static void send_text(const char* conv, enum TIMConvType type, const char* text, char* out, size_t out_len) {
    char msg[512], id[128] = {0};
    snprintf(msg, sizeof msg, "{\"message_elem_array\":[{\"elem_type\":0,\"text_elem_content\":\"%s\"}]}", text);
    result_init(&r);
    CHECK(TIMMsgSendMessage(conv, type, msg, id, on_result, &r) == TIM_SUCC, "send accepted");
    CHECK(strlen(id) > 0, "message id filled before return");
    wait_calls(&r, 1);
    CHECK(r.code == ERR_SUCC, "send %s: %d %s", text, r.code, r.desc);
    CHECK(strstr(r.json, id) != NULL, "the callback's message has the id");
    CHECK(strstr(r.json, "\"message_status\":2") != NULL, "sent: %s", r.json);
    if (out) snprintf(out, out_len, "%s", r.json);
}

int main(int argc, char** argv) {
    CHECK(argc == 2, "usage: api DATA_DIR");
    const char* dir = argv[1];
    static char config[1024], buf[128], json[1 << 19], sent[1 << 18], revoke_me[1 << 18], path[1024];

    /* Before TIMInit: the SDK's codes. */
    CHECK(TIMLogin("user1", "sig", on_result, &r) == TIM_ERR_SDKUNINIT, "login before init");
    CHECK(TIMMsgSendMessage("user2", kTIMConv_C2C, "{}", buf, on_result, &r) == TIM_ERR_SDKUNINIT, "send before init");
    CHECK(TIMGetLoginStatus() == kTIMLoginStatus_UnLogined, "status before init");
    CHECK(TIMGetSDKVersion() != NULL && strlen(TIMGetSDKVersion()) > 0, "version");

    /* Listeners go in before login, as the SDK asks. */
    inbox_init(&new_msgs); inbox_init(&receipts); inbox_init(&revokes); inbox_init(&uploads);
    TIMAddRecvNewMsgCallback(on_new_msg, &new_msgs);
    TIMSetMsgReadedReceiptCallback(on_receipt, &receipts);
    TIMSetMsgRevokeCallback(on_revoke, &revokes);
    TIMSetMsgUpdateCallback(on_update, NULL);
    TIMSetMsgElemUploadProgressCallback(on_upload, &uploads);

    snprintf(config, sizeof config, "{\"%s\":\"%s\",\"timsg_config_durability\":\"os\"}", kTIMSdkConfigConfigFilePath, dir);
    CHECK(TIMInit(1400000000, config) == TIM_SUCC, "init");
    CHECK(TIMInit(1400000000, config) == TIM_SUCC, "init twice is harmless");
    CHECK(TIMMsgSendMessage("user2", kTIMConv_C2C, "{}", buf, on_result, &r) == TIM_ERR_NOTLOGIN, "send before login");
    CHECK(TIMGetLoginUserID(buf) == TIM_ERR_NOTLOGIN, "no user yet");
    CHECK(TIMGetServerTime() > 1700000000u, "server time");

    login("user1");
    CHECK(TIMGetLoginUserID(buf) == TIM_SUCC && strcmp(buf, "user1") == 0, "login user id: %s", buf);
    CHECK(r.user_data == &r, "user_data passes through");
    CHECK(!pthread_equal(r.thread, pthread_self()), "callbacks run on the library's thread");

    /* Bad input: synchronous codes, no callback. */
    result_init(&r);
    CHECK(TIMMsgSendMessage(NULL, kTIMConv_C2C, "{}", buf, on_result, &r) == TIM_ERR_PARAM, "NULL conv");
    CHECK(TIMMsgSendMessage("user2", kTIMConv_C2C, NULL, buf, on_result, &r) == TIM_ERR_PARAM, "NULL json");
    CHECK(TIMMsgSendMessage("user2", kTIMConv_C2C, "{\"message_elem_array\":", buf, on_result, &r) == TIM_ERR_JSON, "bad json");
    CHECK(TIMMsgSendMessage("\xff\xfe", kTIMConv_C2C, "{}", buf, on_result, &r) == TIM_ERR_PARAM, "invalid utf-8");
    CHECK(TIMMsgSendMessage("user2", (enum TIMConvType)9, "{}", buf, on_result, &r) == TIM_ERR_CONV, "bad conv type");
    CHECK(TIMMsgFindMessages("not json", on_result, &r) == TIM_ERR_JSON, "find bad json");
    CHECK(TIMMsgCancelSend("user2", kTIMConv_C2C, NULL, on_result, &r) == TIM_ERR_PARAM, "cancel NULL id");
    CHECK(TIMGetLoginUserID(NULL) == TIM_ERR_PARAM, "NULL buffer");
    CHECK(TIMMsgDownloadElemToPath("{}", NULL, on_result, &r) == TIM_ERR_PARAM, "download NULL path");
    usleep(100000);
    CHECK(r.calls == 0, "no callback after a refusal");
    /* Callback codes. */
    CHECK(CALL(&r, TIMMsgSendMessage("bad\tid", kTIMConv_C2C, "{\"message_elem_array\":[{\"elem_type\":0,\"text_elem_content\":\"x\"}]}", NULL, on_result, &r)) == ERR_SDK_COMM_INVALID_IDENTIFIER, "bad receiver");
    CHECK(CALL(&r, TIMMsgSendMessage("user2", kTIMConv_C2C, "{\"message_elem_array\":[{\"elem_type\":5}]}", NULL, on_result, &r)) == ERR_INVALID_MSG_ELEM, "group tips not sendable");

    /* Sending, finding, history. */
    send_text("user2", kTIMConv_C2C, "hello user2", sent, sizeof sent);
    CHECK(CALL(&r, TIMMsgSendNewMsg("user2", kTIMConv_C2C, "{\"message_elem_array\":[{\"elem_type\":0,\"text_elem_content\":\"second\"}]}", on_result, &r)) == ERR_SUCC, "send new msg");
    send_text("user2", kTIMConv_C2C, "to revoke", revoke_me, sizeof revoke_me);
    CHECK(CALL(&r, TIMMsgCancelSend("user2", kTIMConv_C2C, "no-such-message", on_result, &r)) == ERR_SDK_INVALID_CANCEL_MESSAGE, "cancel unknown");
    {
        char* id = strstr(sent, "\"message_msg_id\":\"");
        CHECK(id != NULL, "sent has an id");
        id += strlen("\"message_msg_id\":\"");
        char ids[256];
        snprintf(ids, sizeof ids, "[\"%.*s\"]", (int)(strchr(id, '"') - id), id);
        CHECK(CALL(&r, TIMMsgFindMessages(ids, on_result, &r)) == ERR_SUCC && strstr(r.json, "hello user2"), "find: %s", r.json);
    }
    CHECK(CALL(&r, TIMMsgGetMsgList("user2", kTIMConv_C2C, "{\"msg_getmsglist_param_count\":10}", on_result, &r)) == ERR_SUCC, "history");
    CHECK(strstr(r.json, "hello user2") && strstr(r.json, "second"), "history: %s", r.json);
    CHECK(CALL(&r, TIMMsgFindByMsgLocatorList("user2", kTIMConv_C2C, "[{\"message_locator_seq\":1}]", on_result, &r)) == ERR_SUCC && strstr(r.json, "hello user2"), "locator: %s", r.json);

    /* Search, batch send, receive options. */
    CHECK(CALL(&r, TIMMsgSearchLocalMessages("{\"msg_search_param_keyword_array\":[\"hello\"],\"msg_search_param_conv_id\":\"user2\",\"msg_search_param_conv_type\":1}", on_result, &r)) == ERR_SUCC, "search");
    CHECK(strstr(r.json, "\"msg_search_result_total_count\":1"), "search: %s", r.json);
    CHECK(CALL(&r, TIMMsgBatchSend("{\"msg_batch_send_param_identifier_array\":[\"user2\",\"user3\"],\"msg_batch_send_param_msg\":{\"message_elem_array\":[{\"elem_type\":0,\"text_elem_content\":\"batch\"}]}}", on_result, &r)) == ERR_SUCC, "batch");
    CHECK(strstr(r.json, "\"msg_batch_send_result_identifier\":\"user3\""), "batch: %s", r.json);
    CHECK(CALL(&r, TIMMsgSetC2CReceiveMessageOpt("[\"user3\"]", kTIMRecvMsgOpt_Not_Notify, on_result, &r)) == ERR_SUCC, "set opt");
    CHECK(CALL(&r, TIMMsgGetC2CReceiveMessageOpt("[\"user3\"]", on_result, &r)) == ERR_SUCC && strstr(r.json, "\"msg_recv_msg_opt_result_opt\":2"), "get opt: %s", r.json);

    /* Local messages and data. */
    CHECK(CALL(&r, TIMMsgImportMsgList("user2", kTIMConv_C2C, "[{\"message_elem_array\":[{\"elem_type\":0,\"text_elem_content\":\"imported\"}],\"message_server_time\":1}]", on_result, &r)) == ERR_SUCC, "import");
    CHECK(CALL(&r, TIMMsgSaveMsg("user2", kTIMConv_C2C, "{\"message_msg_id\":\"note-1\",\"message_elem_array\":[{\"elem_type\":0,\"text_elem_content\":\"saved\"}]}", on_result, &r)) == ERR_SUCC, "save");
    CHECK(CALL(&r, TIMMsgSetLocalCustomData("{\"message_conv_id\":\"user2\",\"message_conv_type\":1,\"message_msg_id\":\"note-1\",\"message_custom_str\":\"mine\"}", on_result, &r)) == ERR_SUCC, "custom data");
    CHECK(CALL(&r, TIMMsgDelete("user2", kTIMConv_C2C, "{\"msg_delete_param_msg\":{\"message_msg_id\":\"note-1\"}}", on_result, &r)) == ERR_SUCC, "delete");

    /* Groups. */
    CHECK(CALL(&r, TIMGroupCreate("{\"create_group_param_group_id\":\"cgroup\",\"create_group_param_group_name\":\"C group\",\"create_group_param_group_type\":1,\"create_group_param_group_member_array\":[{\"group_member_info_identifier\":\"user2\"}]}", on_result, &r)) == ERR_SUCC, "create group: %s", r.desc);
    CHECK(strstr(r.json, "\"create_group_result_groupid\":\"cgroup\""), "group id: %s", r.json);
    CHECK(CALL(&r, TIMGroupInviteMember("{\"group_invite_member_param_group_id\":\"cgroup\",\"group_invite_member_param_identifier_array\":[\"user3\",\"user2\"]}", on_result, &r)) == ERR_SUCC, "invite");
    CHECK(strstr(r.json, "\"group_invite_member_result_identifier\":\"user3\",\"group_invite_member_result_result\":1"), "invite: %s", r.json);
    CHECK(strstr(r.json, "\"group_invite_member_result_identifier\":\"user2\",\"group_invite_member_result_result\":2"), "invite: %s", r.json);
    CHECK(CALL(&r, TIMGroupDeleteMember("{\"group_delete_member_param_group_id\":\"cgroup\",\"group_delete_member_param_identifier_array\":[\"user3\"]}", on_result, &r)) == ERR_SUCC, "kick");
    send_text("cgroup", kTIMConv_Group, "group hello", NULL, 0);
    CHECK(CALL(&r, TIMMsgSetGroupReceiveMessageOpt("cgroup", kTIMRecvMsgOpt_Receive, on_result, &r)) == ERR_SUCC, "group opt");
    CHECK(CALL(&r, TIMGroupCreate("{\"create_group_param_group_name\":\"no id\"}", on_result, &r)) == ERR_SUCC && strstr(r.json, "@TGS#"), "made id: %s", r.json);
    CHECK(CALL(&r, TIMGroupJoin("nosuchgroup", "hi", on_result, &r)) == ERR_SVR_GROUP_NOT_FOUND, "join missing group");

    /* Media: upload progress, download with progress to a path, merged messages. */
    snprintf(path, sizeof path, "%s/upload.bin", dir);
    {
        FILE* f = fopen(path, "wb");
        CHECK(f != NULL, "temp file");
        for (int i = 0; i < 3 * 1024 * 1024; i++) fputc(i % 251, f);
        fclose(f);
    }
    snprintf(json, sizeof json, "{\"message_elem_array\":[{\"elem_type\":4,\"file_elem_file_path\":\"%s\"}]}", path);
    CHECK(CALL(&r, TIMMsgSendMessage("user2", kTIMConv_C2C, json, NULL, on_result, &r)) == ERR_SUCC, "file send: %s", r.desc);
    inbox_wait_for(&uploads, "upload index=0");
    {
        char* url = strstr(r.json, "\"file_elem_url\":\"");
        CHECK(url != NULL, "file url");
        url += strlen("\"file_elem_url\":\"");
        char param[512], dest[1024];
        snprintf(param, sizeof param, "{\"msg_download_elem_param_type\":1,\"msg_download_elem_param_id\":\"\",\"msg_download_elem_param_business_id\":0,\"msg_download_elem_param_url\":\"%.*s\"}", (int)(strchr(url, '"') - url), url);
        snprintf(dest, sizeof dest, "%s/downloaded.bin", dir);
        CHECK(CALL(&r, TIMMsgDownloadElemToPath(param, dest, on_result, &r)) == ERR_SUCC, "download: %s", r.desc);
        wait_json(&r, "\"msg_download_elem_result_current_size\":3145728");
        CHECK(strstr(r.json, "\"msg_download_elem_result_total_size\":3145728"), "download result: %s", r.json);
        FILE* f = fopen(dest, "rb");
        CHECK(f != NULL, "downloaded file");
        fseek(f, 0, SEEK_END);
        CHECK(ftell(f) == 3145728, "downloaded size");
        fclose(f);
    }
    snprintf(json, sizeof json, "{\"message_elem_array\":[{\"elem_type\":12,\"merge_elem_title\":\"t\",\"merge_elem_abstract_array\":[\"a\"],\"merge_elem_compatible_text\":\"c\",\"merge_elem_message_array\":[%s]}]}", sent);
    CHECK(CALL(&r, TIMMsgSendMessage("user2", kTIMConv_C2C, json, NULL, on_result, &r)) == ERR_SUCC, "merge send: %s", r.desc);
    snprintf(sent, sizeof sent, "%s", r.json);
    CHECK(CALL(&r, TIMMsgDownloadMergerMessage(sent, on_result, &r)) == ERR_SUCC && strstr(r.json, "hello user2"), "merged: %s", r.json);

    /* Read state. */
    CHECK(CALL(&r, TIMMsgReportReaded("user2", kTIMConv_C2C, NULL, on_result, &r)) == ERR_SUCC, "report read");
    CHECK(CALL(&r, TIMMsgReportReaded(NULL, kTIMConv_Group, NULL, on_result, &r)) == ERR_SUCC, "report all groups read");
    CHECK(CALL(&r, TIMMsgMarkAllMessageAsRead(on_result, &r)) == ERR_SUCC, "mark all read");
    logout();

    /* user2 logs in and hears what arrived while away, group tips included. */
    login("user2");
    CHECK(r.user_data == &r, "user_data");
    inbox_wait_for(&new_msgs, "hello user2");
    inbox_wait_for(&new_msgs, "group hello");
    inbox_wait_for(&new_msgs, "\"group_tips_elem_tip_type\":1");
    CHECK(CALL(&r, TIMMsgGetMsgList("user1", kTIMConv_C2C, "{\"msg_getmsglist_param_count\":20}", on_result, &r)) == ERR_SUCC && strstr(r.json, "hello user2"), "history of user2: %s", r.json);
    CHECK(CALL(&r, TIMMsgReportReaded("user1", kTIMConv_C2C, "", on_result, &r)) == ERR_SUCC, "user2 reads");
    logout();

    /* user1 hears the receipt it missed, then revokes. */
    login("user1");
    inbox_wait_for(&receipts, "\"msg_receipt_conv_id\":\"user2\"");
    CHECK(CALL(&r, TIMMsgRevoke("user2", kTIMConv_C2C, revoke_me, on_result, &r)) == ERR_SUCC, "revoke: %s", r.desc);
    CHECK(CALL(&r, TIMMsgListDelete("user2", kTIMConv_C2C, "[{\"message_seq\":2}]", on_result, &r)) == ERR_SUCC, "list delete");
    CHECK(CALL(&r, TIMMsgClearHistoryMessage("user2", kTIMConv_C2C, on_result, &r)) == ERR_SUCC, "clear");
    logout();

    /* user2 hears the revoke it missed. */
    login("user2");
    inbox_wait_for(&revokes, "\"message_locator_is_revoked\":true");
    inbox_wait_for(&revokes, "\"message_revoker_user_id\":\"user1\"");
    TIMRemoveRecvNewMsgCallback(on_new_msg);

    CHECK(TIMUninit() == TIM_SUCC, "uninit");
    CHECK(TIMUninit() == TIM_ERR_SDKUNINIT, "uninit twice");
    CHECK(TIMMsgSendMessage("user2", kTIMConv_C2C, "{}", buf, on_result, &r) == TIM_ERR_SDKUNINIT, "send after uninit");
    printf("api.c: all checks passed\n");
    return 0;
}
