/* TIMLogout with calls still completing: a user creates 300 groups and logs out at once. The
 * creations that complete after the logout are not lost: at the next login each group's
 * GroupReport (create) and GroupTips (the guest invited) reach the new-message listener, once.
 * argv[1] is a fresh data directory. */
#include "harness.h"

#include <stdatomic.h>

#define GROUPS 300

static atomic_int created, failed;
/* GroupReports and GroupTips seen, per group (g0..g299). */
static atomic_int reports[GROUPS], tips[GROUPS];

static void on_created(int32_t code, const char* desc, const char* json, const void* ud) {
    (void)desc; (void)json; (void)ud;
    if (code == ERR_SUCC) {
        atomic_fetch_add(&created, 1);
    } else {
        atomic_fetch_add(&failed, 1);
    }
}

/* Counts each `key":"g<N>"` in `json` into `seen[N]`. */
static void count_groups(const char* json, const char* key, atomic_int* seen) {
    size_t klen = strlen(key);
    for (const char* p = strstr(json, key); p; p = strstr(p + 1, key)) {
        int n = atoi(p + klen);
        CHECK(n >= 0 && n < GROUPS, "group %d", n);
        atomic_fetch_add(&seen[n], 1);
    }
}

static void on_new_msg(const char* json, const void* ud) {
    (void)ud;
    count_groups(json, "\"group_report_elem_group_id\":\"g", reports);
    count_groups(json, "\"group_tips_elem_group_id\":\"g", tips);
}

static int total(atomic_int* seen) {
    int n = 0;
    for (int i = 0; i < GROUPS; i++) n += atomic_load(&seen[i]) > 0;
    return n;
}

/* Waits until every group was seen; none twice. */
static void wait_all(const char* what, atomic_int* seen) {
    for (int waited = 0; total(seen) < GROUPS; waited++) {
        if (waited == 300) {
            for (int i = 0; i < GROUPS; i++) {
                if (atomic_load(&seen[i]) == 0) fprintf(stderr, "missing: %s of g%d\n", what, i);
            }
        }
        CHECK(waited < 300, "%s: %d of %d groups after 30 s", what, total(seen), GROUPS);
        struct timespec t = {0, 100000000};
        nanosleep(&t, NULL);
    }
    for (int i = 0; i < GROUPS; i++) CHECK(atomic_load(&seen[i]) == 1, "%s of g%d came %d times", what, i, atomic_load(&seen[i]));
}

int main(int argc, char** argv) {
    CHECK(argc == 2, "usage: logout_in_flight DATA_DIR");
    static char config[1024];
    snprintf(config, sizeof config, "{\"%s\":\"%s\",\"timsg_config_durability\":\"os\"}", kTIMSdkConfigConfigFilePath, argv[1]);
    CHECK(TIMInit(1400000000, config) == TIM_SUCC, "init");
    static Result r, out;
    TIMAddRecvNewMsgCallback(on_new_msg, NULL);
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
    printf("%d of %d reports came before the logout\n", total(reports), GROUPS);

    CHECK(CALL(&r, TIMLogin("owner", "sig", on_result, &r)) == ERR_SUCC, "login again");
    wait_all("the report", reports);
    wait_all("the tip", tips);
    CHECK(TIMUninit() == TIM_SUCC, "uninit");
    printf("all checks passed\n");
    return 0;
}
