/* Expensive reads do not hold up other calls: 40 searches that each match 20,000 messages are
 * in flight when a history read of another conversation is issued, and its callback comes
 * before the last search's. A 10 MB keyword is refused at once (-4, no callback).
 * argv[1] is a fresh data directory. */
#include "harness.h"

#include <stdatomic.h>

#define MESSAGES 20000
#define SEARCHES 40

static atomic_int order;
static atomic_int search_done[SEARCHES];
static atomic_int history_at, last_search_at, searches_answered;

static void on_search(int32_t code, const char* desc, const char* json, const void* ud) {
    (void)json;
    CHECK(code == ERR_SUCC, "search: %d %s", code, desc);
    int at = atomic_fetch_add(&order, 1) + 1;
    atomic_fetch_add(&search_done[(intptr_t)ud], 1);
    atomic_store(&last_search_at, at);
    atomic_fetch_add(&searches_answered, 1);
}

static void on_history(int32_t code, const char* desc, const char* json, const void* ud) {
    (void)ud;
    CHECK(code == ERR_SUCC, "history: %d %s", code, desc);
    CHECK(strstr(json, "other conversation") != NULL, "history: %.200s", json);
    atomic_store(&history_at, atomic_fetch_add(&order, 1) + 1);
}

int main(int argc, char** argv) {
    CHECK(argc == 2, "usage: search_beside_history DATA_DIR");
    static char config[1024];
    snprintf(config, sizeof config, "{\"%s\":\"%s\",\"timsg_config_durability\":\"os\"}", kTIMSdkConfigConfigFilePath, argv[1]);
    CHECK(TIMInit(1400000000, config) == TIM_SUCC, "init");
    static Result r;
    CHECK(CALL(&r, TIMLogin("user1", "sig", on_result, &r)) == ERR_SUCC, "login");
    for (int i = 0; i < MESSAGES; i++) {
        char msg[256];
        snprintf(msg, sizeof msg, "{\"message_elem_array\":[{\"elem_type\":0,\"text_elem_content\":\"needle number %d\"}]}", i);
        if (i == MESSAGES - 1) {
            CHECK(CALL(&r, TIMMsgSendMessage("user2", kTIMConv_C2C, msg, NULL, on_result, &r)) == ERR_SUCC, "last send: %d %s", r.code, r.desc);
        } else {
            CHECK(TIMMsgSendMessage("user2", kTIMConv_C2C, msg, NULL, NULL, NULL) == TIM_SUCC, "send %d", i);
        }
    }
    const char* other = "{\"message_elem_array\":[{\"elem_type\":0,\"text_elem_content\":\"other conversation\"}]}";
    CHECK(CALL(&r, TIMMsgSendMessage("user3", kTIMConv_C2C, other, NULL, on_result, &r)) == ERR_SUCC, "other send");

    /* A 10 MB keyword: refused before it is accepted. */
    size_t big = 10u << 20;
    char* huge = malloc(big + 128);
    CHECK(huge != NULL, "malloc");
    strcpy(huge, "{\"msg_search_param_keyword_array\":[\"");
    size_t at = strlen(huge);
    memset(huge + at, 'k', big);
    strcpy(huge + at + big, "\"]}");
    CHECK(TIMMsgSearchLocalMessages(huge, on_result, NULL) == TIM_ERR_PARAM, "a 10 MB keyword");
    free(huge);

    const char* search = "{\"msg_search_param_keyword_array\":[\"needle\"],\"msg_search_param_page_size\":10}";
    for (int i = 0; i < SEARCHES; i++) {
        CHECK(TIMMsgSearchLocalMessages(search, on_search, (void*)(intptr_t)i) == TIM_SUCC, "search %d", i);
    }
    CHECK(TIMMsgGetMsgList("user3", kTIMConv_C2C, "{\"msg_getmsglist_param_count\":10}", on_history, NULL) == TIM_SUCC, "history");
    for (int waited = 0; atomic_load(&searches_answered) < SEARCHES || atomic_load(&history_at) == 0; waited++) {
        CHECK(waited < 1200, "%d of %d searches answered, history %d", atomic_load(&searches_answered), SEARCHES, atomic_load(&history_at));
        struct timespec t = {0, 100000000};
        nanosleep(&t, NULL);
    }
    for (int i = 0; i < SEARCHES; i++) CHECK(atomic_load(&search_done[i]) == 1, "search %d answered %d times", i, atomic_load(&search_done[i]));
    printf("history answered as callback %d of %d\n", atomic_load(&history_at), SEARCHES + 1);
    CHECK(atomic_load(&history_at) < atomic_load(&last_search_at), "the history read waited for every search");
    CHECK(TIMUninit() == TIM_SUCC, "uninit");
    printf("all checks passed\n");
    return 0;
}
