/* Listeners that change listeners: a read-receipt listener that removes itself, a revoke
 * listener that adds a new-message listener, an upload-progress listener that removes itself.
 * Each must return, later callbacks must still come, and TIMUninit must return. argv[1] is a
 * fresh data directory. */
#include "harness.h"

static Result r;
static Inbox receipts, revokes, uploads, late_msgs;

static void on_late_msg(const char* json, const void* ud) { inbox_add((Inbox*)ud, json); }

static void on_receipt(const char* json, const void* ud) {
    TIMSetMsgReadedReceiptCallback(NULL, NULL);
    inbox_add((Inbox*)ud, json);
}

static void on_revoke(const char* json, const void* ud) {
    TIMAddRecvNewMsgCallback(on_late_msg, &late_msgs);
    inbox_add((Inbox*)ud, json);
}

static void on_upload(const char* json, uint32_t index, uint32_t cur, uint32_t total, const void* ud) {
    (void)json; (void)index; (void)cur; (void)total;
    TIMSetMsgElemUploadProgressCallback(NULL, NULL);
    inbox_add((Inbox*)ud, "upload");
}

static void login(const char* user) {
    CHECK(CALL(&r, TIMLogin(user, "any sig", on_result, &r)) == ERR_SUCC, "login %s: %s", user, r.desc);
}

static void logout(void) { CHECK(CALL(&r, TIMLogout(on_result, &r)) == ERR_SUCC, "logout"); }

static void send_json(const char* to, const char* json, char* out, size_t out_len) {
    CHECK(CALL(&r, TIMMsgSendMessage(to, kTIMConv_C2C, json, NULL, on_result, &r)) == ERR_SUCC, "send: %s", r.desc);
    if (out) snprintf(out, out_len, "%s", r.json);
}

int main(int argc, char** argv) {
    CHECK(argc == 2, "usage: listener_reentry DATA_DIR");
    static char config[1024], sent[1 << 16], json[2048], path[1024];
    inbox_init(&receipts); inbox_init(&revokes); inbox_init(&uploads); inbox_init(&late_msgs);
    TIMSetMsgReadedReceiptCallback(on_receipt, &receipts);
    TIMSetMsgRevokeCallback(on_revoke, &revokes);
    TIMSetMsgElemUploadProgressCallback(on_upload, &uploads);
    snprintf(config, sizeof config, "{\"%s\":\"%s\",\"timsg_config_durability\":\"os\"}", kTIMSdkConfigConfigFilePath, argv[1]);
    CHECK(TIMInit(1400000000, config) == TIM_SUCC, "init");

    /* An upload whose progress listener removes itself. */
    login("user1");
    snprintf(path, sizeof path, "%s/upload.bin", argv[1]);
    {
        FILE* f = fopen(path, "wb");
        CHECK(f != NULL, "temp file");
        for (int i = 0; i < 2 * 1024 * 1024; i++) fputc(i % 251, f);
        fclose(f);
    }
    snprintf(json, sizeof json, "{\"message_elem_array\":[{\"elem_type\":4,\"file_elem_file_path\":\"%s\"}]}", path);
    send_json("user2", json, NULL, 0);
    inbox_wait_for(&uploads, "upload");
    send_json("user2", "{\"message_elem_array\":[{\"elem_type\":0,\"text_elem_content\":\"revoke me\"}]}", sent, sizeof sent);
    logout();

    /* user2 reads; user1 hears the receipt in a listener that removes itself. */
    login("user2");
    CHECK(CALL(&r, TIMMsgReportReaded("user1", kTIMConv_C2C, NULL, on_result, &r)) == ERR_SUCC, "read");
    logout();
    login("user1");
    inbox_wait_for(&receipts, "\"msg_receipt_conv_id\":\"user2\"");
    /* Callbacks still come after it. */
    CHECK(CALL(&r, TIMMsgRevoke("user2", kTIMConv_C2C, sent, on_result, &r)) == ERR_SUCC, "revoke: %s", r.desc);
    logout();

    /* user2 hears the revoke in a listener that adds a new-message listener, which then hears. */
    login("user2");
    inbox_wait_for(&revokes, "\"message_locator_is_revoked\":true");
    logout();
    login("user1");
    send_json("user2", "{\"message_elem_array\":[{\"elem_type\":0,\"text_elem_content\":\"after the revoke\"}]}", NULL, 0);
    logout();
    login("user2");
    inbox_wait_for(&late_msgs, "after the revoke");
    CHECK(TIMUninit() == TIM_SUCC, "uninit");
    printf("all checks passed\n");
    return 0;
}
