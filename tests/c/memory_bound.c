/* Memory a logged-in embedder holds stays bounded under steady traffic: 200,000 sends to one
 * conversation (and a few others) with an on-disk store; the resident set may not grow by more
 * than 48 MB from 20,000 sends to 200,000 (it grew by ~575 bytes a message, ~100 MB, when a
 * running conversation kept every message it sent). The memory keys of TIMInit's config are
 * set as an embedder would. argv[1] is a fresh data directory. */
#include "harness.h"

#include <unistd.h>

#define SENDS 200000
#define BATCH 500
#define WARM 20000
#define BOUND_MB 48

/* The process's own memory: resident pages less the file-backed ones (the database pages its
 * read connections map count in the resident set, but are the page cache's, shared and
 * reclaimable). */
static long rss_kb(void) {
    FILE* f = fopen("/proc/self/statm", "r");
    CHECK(f != NULL, "statm");
    long pages = 0, resident = 0, shared = 0;
    CHECK(fscanf(f, "%ld %ld %ld", &pages, &resident, &shared) == 3, "statm format");
    fclose(f);
    return (resident - shared) * (sysconf(_SC_PAGESIZE) / 1024);
}

int main(int argc, char** argv) {
    CHECK(argc == 2, "usage: memory_bound DATA_DIR");
    static char config[1024];
    snprintf(config, sizeof config,
             "{\"%s\":\"%s\",\"timsg_config_durability\":\"os\",\"timsg_config_idle_passivation_ms\":300000,"
             "\"timsg_config_activation_window\":200}",
             kTIMSdkConfigConfigFilePath, argv[1]);
    CHECK(TIMInit(1400000000, config) == TIM_SUCC, "init");
    static Result r;
    CHECK(CALL(&r, TIMLogin("user1", "sig", on_result, &r)) == ERR_SUCC, "login");
    long warm = 0;
    for (int sent = 0; sent < SENDS;) {
        const char* peer = (sent / BATCH) % 10 == 9 ? "user3" : "user2";
        for (int i = 0; i < BATCH; i++, sent++) {
            char msg[256];
            snprintf(msg, sizeof msg, "{\"message_elem_array\":[{\"elem_type\":0,\"text_elem_content\":\"message number %d of the steady traffic\"}]}", sent);
            if (i == BATCH - 1) {
                CHECK(CALL(&r, TIMMsgSendMessage(peer, kTIMConv_C2C, msg, NULL, on_result, &r)) == ERR_SUCC, "send %d: %s", sent, r.desc);
            } else {
                CHECK(TIMMsgSendMessage(peer, kTIMConv_C2C, msg, NULL, NULL, NULL) == TIM_SUCC, "send %d", sent);
            }
        }
        if (sent == WARM) warm = rss_kb();
    }
    long end = rss_kb();
    /* The oldest messages are still there, read back from the store; while SQLite is still
     * taking in the journal's backlog the read says so (6019, "try again"), as an app sees. */
    static const char* oldest = "{\"msg_getmsglist_param_count\":1,\"msg_getmsglist_param_is_forward\":true}";
    for (int tries = 0;; tries++) {
        int code = CALL(&r, TIMMsgGetMsgList("user2", kTIMConv_C2C, oldest, on_result, &r));
        if (code == ERR_SUCC) break;
        CHECK(code == ERR_DATABASE_OPERATE_FAILED && tries < 60, "oldest: %d %s", r.code, r.desc);
        sleep(1);
    }
    CHECK(strstr(r.json, "message number 0 of") != NULL, "the oldest message: %.300s", r.json);
    long after_read = rss_kb();
    printf("anonymous RSS after %d sends: %ld KB; after %d: %ld KB (+%ld KB, %.0f bytes a message)\n", WARM, warm, SENDS, end,
           end - warm, (end - warm) * 1024.0 / (SENDS - WARM));
    CHECK(end - warm <= BOUND_MB * 1024, "RSS grew by %ld KB over %d sends (bound %d MB)", end - warm, SENDS - WARM, BOUND_MB);
    /* Reading the oldest page loads the older messages for the op (the conversation's log is
     * whole while it runs), then lets them go again: reading it again and again does not
     * pile them up. (The allocator keeps part of what the first load took: see the note in
     * docs/c-abi.md.) */
    printf("anonymous RSS after reading the oldest page: %ld KB\n", after_read);
    long last = after_read;
    for (int k = 0; k < 3; k++) {
        CHECK(CALL(&r, TIMMsgGetMsgList("user2", kTIMConv_C2C, oldest, on_result, &r)) == ERR_SUCC, "oldest again: %s", r.desc);
        last = rss_kb();
    }
    printf("after three more reads: %ld KB\n", last);
    CHECK(last - after_read <= 16 * 1024, "old-history reads pile up: %ld KB more", last - after_read);
    CHECK(TIMUninit() == TIM_SUCC, "uninit");
    printf("all checks passed\n");
    return 0;
}
