/* UserSig verification at TIMLogin when a secret key is configured.
 * argv: DATA_DIR GOOD FORGED EXPIRED (made for user "alice", SDKAppID 1400000000) CAROL (good, for "carol"). */
#include "harness.h"

int main(int argc, char** argv) {
    CHECK(argc == 6, "usage: usersig DATA_DIR GOOD FORGED EXPIRED CAROL");
    static char config[1024];
    static Result r;
    snprintf(config, sizeof config, "{\"sdk_config_config_file_path\":\"%s\",\"timsg_config_secret_key\":\"secret\"}", argv[1]);
    CHECK(TIMInit(1400000000, config) == TIM_SUCC, "init");
    CHECK(CALL(&r, TIMLogin("alice", argv[3], on_result, &r)) == ERR_SVR_ACCOUNT_USERSIG_INVALID, "forged: %d %s", r.code, r.desc);
    CHECK(CALL(&r, TIMLogin("alice", argv[4], on_result, &r)) == ERR_USER_SIG_EXPIRED, "expired: %d %s", r.code, r.desc);
    CHECK(CALL(&r, TIMLogin("bob", argv[2], on_result, &r)) == ERR_SVR_ACCOUNT_USERSIG_MISMATCH_ID, "someone else's: %d", r.code);
    CHECK(CALL(&r, TIMLogin("alice", NULL, on_result, &r)) == ERR_SVR_ACCOUNT_USERSIG_INVALID, "no sig: %d", r.code);
    CHECK(TIMGetLoginStatus() == kTIMLoginStatus_UnLogined, "still logged out");
    CHECK(CALL(&r, TIMLogin("alice", argv[2], on_result, &r)) == ERR_SUCC, "good: %d %s", r.code, r.desc);
    CHECK(CALL(&r, TIMLogin("carol", argv[5], on_result, &r)) == ERR_SDK_INVALID_OPERATION, "one user at a time: %d", r.code);
    CHECK(TIMUninit() == TIM_SUCC, "uninit");
    printf("usersig.c: all checks passed\n");
    return 0;
}
