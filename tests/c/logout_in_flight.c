/* TIMLogout with calls still completing: a user creates 300 groups and logs out at once. The
 * creations that complete after the logout are not lost: at the next login each group's
 * GroupReport (create) and GroupTips (the guest invited) reach the new-message listener, once.
 * argv[1] is a fresh data directory. */
#include "harness.h"

#include <stdatomic.h>

#define GROUPS 300

static atomic_int created, failed;
static Inbox inbox;

static void on_created(int32_t code, const char* desc, const char* json, const void* ud) {
    (void)desc; (void)json; (void)ud;
    if (code == ERR_SUCC) {
        atomic_fetch_add(&created, 1);
    } else {
        atomic_fetch_add(&failed, 1);
    }
}

static void on_new_msg(const char* json, const void* ud) { inbox_add((Inbox*)ud, json); }

static int occurrences(const char* text, const char* needle) {
    int n = 0;
    for (const char* p = strstr(text, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* Waits until `needle` occurs `count` times in the inbox. */
static void wait_count(const char* needle, int count) {
    for (int waited = 0;; waited++) {
        pthread_mutex_lock(&inbox.mu);
        int n = occurrences(inbox.text, needle);
        pthread_mutex_unlock(&inbox.mu);
        if (n == count) return;
        CHECK(n < count, "%s %d times, more than %d", needle, n, count);
        CHECK(waited < 300, "%s: %d of %d after 30 s", needle, n, count);
        struct timespec t = {0, 100000000};
        nanosleep(&t, NULL);
    }
}

int main(int argc, char** argv) {
    CHECK(argc == 2, "usage: logout_in_flight DATA_DIR");
    static char config[1024];
    snprintf(config, sizeof config, "{\"%s\":\"%s\",\"timsg_config_durability\":\"os\"}", kTIMSdkConfigConfigFilePath, argv[1]);
    CHECK(TIMInit(1400000000, config) == TIM_SUCC, "init");
    static Result r, out;
    inbox_init(&inbox);
    TIMAddRecvNewMsgCallback(on_new_msg, &inbox);
    CHECK(CALL(&r, TIMLogin("owner", "sig", on_result, &r)) == ERR_SUCC, "login");
    for (int i = 0; i < GROUPS; i++) {
        char param[512];
        snprintf(param, sizeof param,
                 "{\"create_group_param_group_id\":\"g%d\",\"create_group_param_group_name\":\"G\",\"create_group_param_group_type\":1,"
                 "\"create_group_param_group_member_array\":[{\"group_member_info_identifier\":\"guest\"}]}", i);
        CHECK(TIMGroupCreate(param, on_created, NULL) == TIM_SUCC, "create %d", i);
    }
    CHECK(CALL(&out, TIMLogout(on_result, &out)) == ERR_SUCC, "logout");
    for (int waited = 0; atomic_load(&created) + atomic_load(&failed) < GROUPS; waited++) {
        CHECK(waited < 300, "%d of %d creations answered", atomic_load(&created) + atomic_load(&failed), GROUPS);
        struct timespec t = {0, 100000000};
        nanosleep(&t, NULL);
    }
    CHECK(atomic_load(&created) == GROUPS, "%d creations failed", atomic_load(&failed));
    pthread_mutex_lock(&inbox.mu);
    int before = occurrences(inbox.text, "\"group_report_elem_group_id\"");
    pthread_mutex_unlock(&inbox.mu);
    printf("%d of %d reports came before the logout\n", before, GROUPS);

    CHECK(CALL(&r, TIMLogin("owner", "sig", on_result, &r)) == ERR_SUCC, "login again");
    wait_count("\"group_report_elem_group_id\"", GROUPS);
    wait_count("\"group_tips_elem_group_id\"", GROUPS);
    /* Nothing twice: the last group's report, once. */
    pthread_mutex_lock(&inbox.mu);
    CHECK(occurrences(inbox.text, "\"group_report_elem_group_id\":\"g299\"") == 1, "g299's report not once");
    pthread_mutex_unlock(&inbox.mu);
    CHECK(TIMUninit() == TIM_SUCC, "uninit");
    printf("all checks passed\n");
    return 0;
}
