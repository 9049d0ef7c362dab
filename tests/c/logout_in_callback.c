/* TIMLogout and TIMLogin from inside callbacks while the callback queue is full: 100,000
 * history calls, ~100 us of app work per callback; the 20,000th callback logs out and the
 * 30,000th logs in again. Both complete (their own callbacks come), every accepted call gets
 * its callback, and TIMUninit returns. argv[1] is a fresh data directory. */
#include "harness.h"

#include <stdatomic.h>

#define CALLS 100000
#define LOGOUT_AT 20000
#define LOGIN_AT 30000

static Result r, logout_r, login_r;
static atomic_int answered;

static void on_history(int32_t code, const char* desc, const char* json, const void* ud) {
    (void)code; (void)desc; (void)json; (void)ud;
    int n = atomic_fetch_add(&answered, 1) + 1;
    struct timespec work = {0, 100000};
    nanosleep(&work, NULL);
    if (n == LOGOUT_AT) {
        CHECK(TIMLogout(on_result, &logout_r) == TIM_SUCC, "logout from a callback");
    }
    if (n == LOGIN_AT) {
        CHECK(TIMLogin("user1", "sig", on_result, &login_r) == TIM_SUCC, "login from a callback");
    }
}

int main(int argc, char** argv) {
    CHECK(argc == 2, "usage: logout_in_callback DATA_DIR");
    static char config[1024];
    snprintf(config, sizeof config, "{\"%s\":\"%s\",\"timsg_config_durability\":\"os\"}", kTIMSdkConfigConfigFilePath, argv[1]);
    CHECK(TIMInit(1400000000, config) == TIM_SUCC, "init");
    CHECK(CALL(&r, TIMLogin("user1", "sig", on_result, &r)) == ERR_SUCC, "login");
    CHECK(CALL(&r, TIMMsgSendMessage("user2", kTIMConv_C2C, "{\"message_elem_array\":[{\"elem_type\":0,\"text_elem_content\":\"hi\"}]}", NULL, on_result, &r)) == ERR_SUCC, "send");
    result_init(&logout_r);
    result_init(&login_r);
    int accepted = 0;
    for (int i = 0; i < CALLS; i++) {
        int rc = TIMMsgGetMsgList("user2", kTIMConv_C2C, "{\"msg_getmsglist_param_count\":1}", on_history, NULL);
        if (rc == TIM_SUCC) {
            accepted++;
        } else {
            CHECK(rc == TIM_ERR_NOTLOGIN, "after the logout: not logged in, got %d", rc);
        }
    }
    CHECK(accepted >= LOGIN_AT, "accepted %d", accepted);
    /* The logout's callback comes after the callbacks of the calls accepted before it (and
     * the events published before it): up to 65,536 of them, ~100 us each. */
    wait_calls_within(&logout_r, 1, 120);
    CHECK(logout_r.code == ERR_SUCC, "logout: %d %s", logout_r.code, logout_r.desc);
    wait_calls_within(&login_r, 1, 120);
    CHECK(login_r.code == ERR_SUCC, "login from a callback: %d %s", login_r.code, login_r.desc);
    /* Every accepted call is answered, once. */
    for (int waited = 0; atomic_load(&answered) < accepted; waited++) {
        CHECK(waited < 600, "answered %d of %d", atomic_load(&answered), accepted);
        struct timespec t = {0, 100000000};
        nanosleep(&t, NULL);
    }
    CHECK(atomic_load(&answered) == accepted, "answered %d of %d", atomic_load(&answered), accepted);
    CHECK(TIMUninit() == TIM_SUCC, "uninit");
    printf("all checks passed (%d calls)\n", accepted);
    return 0;
}
