/* TIMUninit with calls in flight: every accepted call gets exactly one callback, before
 * TIMUninit returns — its result, or ERR_SDK_COMM_INTERRUPT (7009) for what is still running
 * when the configured wait (timsg_config_uninit_wait_ms) ends. Then TIMUninit from inside a
 * callback with the callback queue full: it returns at once, every other accepted call still
 * gets its callback, and the next TIMInit (which waits for the closing instance) works on
 * the same data directory. argv[1] is a fresh data directory. */
#include "harness.h"

#include <stdatomic.h>

#define MESSAGES 3000
#define SLOW_CALLS 2000
#define FLOOD_CALLS 80000
#define UNINIT_AT 20000

static atomic_int answers[FLOOD_CALLS];
static atomic_int interrupted, succeeded, answered_total;
static atomic_int uninit_rc = 1;
static char config[1024];

static void on_answer(int32_t code, const char* desc, const char* json, const void* ud) {
    (void)desc; (void)json;
    atomic_fetch_add(&answers[(intptr_t)ud], 1);
    if (code == ERR_SDK_COMM_INTERRUPT) {
        atomic_fetch_add(&interrupted, 1);
    } else if (code == ERR_SUCC) {
        atomic_fetch_add(&succeeded, 1);
    }
    atomic_fetch_add(&answered_total, 1);
}

static void on_flood(int32_t code, const char* desc, const char* json, const void* ud) {
    on_answer(code, desc, json, ud);
    if (atomic_load(&answered_total) == UNINIT_AT) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        atomic_store(&uninit_rc, TIMUninit());
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
        CHECK(ms < 1000, "TIMUninit from a callback waited %.0f ms (for itself?)", ms);
    }
}

static void reset(void) {
    for (int i = 0; i < FLOOD_CALLS; i++) atomic_store(&answers[i], 0);
    atomic_store(&interrupted, 0);
    atomic_store(&succeeded, 0);
    atomic_store(&answered_total, 0);
}

/* Every accepted call (accepted[i] != 0) answered exactly once, the others never. */
static void check_once(const char* accepted, int n) {
    for (int i = 0; i < n; i++) {
        int a = atomic_load(&answers[i]);
        CHECK(a == (accepted[i] ? 1 : 0), "call %d: %d callbacks (accepted %d)", i, a, accepted[i]);
    }
}

static void init_and_login(const char* extra) {
    snprintf(config, sizeof config, "{\"%s\":\"%s\",\"timsg_config_durability\":\"os\"%s}",
             kTIMSdkConfigConfigFilePath, getenv("DATA_DIR"), extra);
    CHECK(TIMInit(1400000000, config) == TIM_SUCC, "init");
    static Result r;
    CHECK(CALL(&r, TIMLogin("user1", "sig", on_result, &r)) == ERR_SUCC, "login");
}

static char accepted[FLOOD_CALLS];

int main(int argc, char** argv) {
    CHECK(argc == 2, "usage: uninit_in_flight DATA_DIR");
    setenv("DATA_DIR", argv[1], 1);

    /* 1: slow calls in flight, a 1 ms wait. */
    init_and_login(",\"timsg_config_uninit_wait_ms\":1");
    static Result r;
    for (int i = 0; i < MESSAGES; i++) {
        char msg[256];
        snprintf(msg, sizeof msg, "{\"message_elem_array\":[{\"elem_type\":0,\"text_elem_content\":\"needle %d in the haystack\"}]}", i);
        if (i % 500 == 499) {
            CHECK(CALL(&r, TIMMsgSendMessage("user2", kTIMConv_C2C, msg, NULL, on_result, &r)) == ERR_SUCC, "send %d", i);
        } else {
            CHECK(TIMMsgSendMessage("user2", kTIMConv_C2C, msg, NULL, NULL, NULL) == TIM_SUCC, "send %d", i);
        }
    }
    reset();
    const char* search = "{\"msg_search_param_keyword_array\":[\"needle\"],\"msg_search_param_page_size\":100}";
    for (int i = 0; i < SLOW_CALLS; i++) {
        int rc = i % 2 ? TIMMsgSearchLocalMessages(search, on_answer, (void*)(intptr_t)i)
                       : TIMMsgGetMsgList("user2", kTIMConv_C2C, "{\"msg_getmsglist_param_count\":100}", on_answer, (void*)(intptr_t)i);
        CHECK(rc == TIM_SUCC, "call %d refused with %d", i, rc);
        accepted[i] = 1;
    }
    CHECK(TIMUninit() == TIM_SUCC, "uninit");
    int done_before = atomic_load(&answered_total);
    check_once(accepted, SLOW_CALLS);
    printf("slow calls: %d answered (%d ok, %d interrupted) when TIMUninit returned\n", done_before,
           atomic_load(&succeeded), atomic_load(&interrupted));
    CHECK(atomic_load(&interrupted) > 0, "a 1 ms wait interrupted nothing of %d slow calls", SLOW_CALLS);
    CHECK(atomic_load(&succeeded) + atomic_load(&interrupted) == SLOW_CALLS, "other codes came");
    CHECK(TIMMsgGetMsgList("user2", kTIMConv_C2C, "{}", on_answer, NULL) == TIM_ERR_SDKUNINIT, "after uninit: -1");

    /* 2: uninit from a callback, the queue full. */
    init_and_login("");
    reset();
    memset(accepted, 0, sizeof accepted);
    int n_accepted = 0;
    for (int i = 0; i < FLOOD_CALLS; i++) {
        int rc = TIMMsgGetMsgList("user2", kTIMConv_C2C, "{\"msg_getmsglist_param_count\":1}", on_flood, (void*)(intptr_t)i);
        if (rc == TIM_SUCC) {
            accepted[i] = 1;
            n_accepted++;
        } else {
            CHECK(rc == TIM_ERR_SDKUNINIT, "after the uninit: -1, got %d", rc);
        }
    }
    CHECK(n_accepted >= UNINIT_AT, "accepted %d", n_accepted);
    for (int waited = 0; atomic_load(&uninit_rc) == 1; waited++) {
        CHECK(waited < 600, "the %dth callback never came (%d answered)", UNINIT_AT, atomic_load(&answered_total));
        struct timespec t = {0, 100000000};
        nanosleep(&t, NULL);
    }
    /* The next TIMInit waits for the closing instance, so after it every callback has run. */
    init_and_login("");
    CHECK(atomic_load(&uninit_rc) == TIM_SUCC, "uninit from a callback returned %d", atomic_load(&uninit_rc));
    check_once(accepted, FLOOD_CALLS);
    printf("flood: %d accepted, all answered once (%d interrupted)\n", n_accepted, atomic_load(&interrupted));
    /* The same data directory, the messages still there. */
    CHECK(CALL(&r, TIMMsgGetMsgList("user2", kTIMConv_C2C, "{\"msg_getmsglist_param_count\":5}", on_result, &r)) == ERR_SUCC, "history");
    CHECK(strstr(r.json, "needle 2999") != NULL, "the newest message after reopening: %.300s", r.json);
    CHECK(TIMUninit() == TIM_SUCC, "last uninit");
    printf("all checks passed\n");
    return 0;
}
