/* The small codes: calls before TIMInit answer -1 even with NULL arguments, calls before
 * TIMLogin -2; element types the API does not have (999, -1) and backend-only ones (group
 * tips) are refused with 6016; user IDs shaped like paths or the system sender are refused
 * with 7003. argv[1] is a fresh data directory. */
#include "harness.h"

int main(int argc, char** argv) {
    CHECK(argc == 2, "usage: minor_codes DATA_DIR");
    static Result r;
    /* Before TIMInit: -1, whatever the arguments. */
    CHECK(TIMMsgSendMessage(NULL, kTIMConv_C2C, NULL, NULL, NULL, NULL) == TIM_ERR_SDKUNINIT, "send before init");
    CHECK(TIMMsgGetMsgList(NULL, kTIMConv_C2C, NULL, NULL, NULL) == TIM_ERR_SDKUNINIT, "history before init");
    CHECK(TIMMsgSearchLocalMessages(NULL, NULL, NULL) == TIM_ERR_SDKUNINIT, "search before init");
    CHECK(TIMGroupCreate(NULL, NULL, NULL) == TIM_ERR_SDKUNINIT, "group before init");
    CHECK(TIMLogin(NULL, NULL, NULL, NULL) == TIM_ERR_SDKUNINIT, "login before init");
    CHECK(TIMUninit() == TIM_ERR_SDKUNINIT, "uninit before init");

    static char config[1024];
    snprintf(config, sizeof config, "{\"%s\":\"%s\",\"timsg_config_durability\":\"os\"}", kTIMSdkConfigConfigFilePath, argv[1]);
    CHECK(TIMInit(1400000000, config) == TIM_SUCC, "init");
    /* Before TIMLogin: -2, whatever the arguments. */
    CHECK(TIMMsgSendMessage(NULL, kTIMConv_C2C, NULL, NULL, NULL, NULL) == TIM_ERR_NOTLOGIN, "send before login");
    CHECK(TIMMsgMarkAllMessageAsRead(NULL, NULL) == TIM_ERR_NOTLOGIN, "mark before login");

    const char* bad_ids[] = {"../../escape", "a/b", "..", "@TIM#SYSTEM"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        CHECK(CALL(&r, TIMLogin(bad_ids[i], "sig", on_result, &r)) == ERR_SDK_COMM_INVALID_IDENTIFIER, "login as %s: %d", bad_ids[i], r.code);
        CHECK(TIMGetLoginStatus() == kTIMLoginStatus_UnLogined, "not logged in as %s", bad_ids[i]);
    }
    CHECK(CALL(&r, TIMLogin("user1", "sig", on_result, &r)) == ERR_SUCC, "login");
    CHECK(CALL(&r, TIMMsgSendMessage("../../escape", kTIMConv_C2C, "{\"message_elem_array\":[{\"elem_type\":0,\"text_elem_content\":\"x\"}]}", NULL, on_result, &r)) == ERR_SDK_COMM_INVALID_IDENTIFIER, "send to a path-like peer: %d", r.code);

    const char* bad_elems[] = {
        "{\"message_elem_array\":[{\"elem_type\":999}]}",
        "{\"message_elem_array\":[{\"elem_type\":-1}]}",
        "{\"message_elem_array\":[{\"elem_type\":0,\"text_elem_content\":\"ok\"},{\"elem_type\":999}]}",
        "{\"message_elem_array\":[{\"elem_type\":5,\"group_tips_elem_group_id\":\"g\"}]}",
    };
    for (size_t i = 0; i < sizeof bad_elems / sizeof bad_elems[0]; i++) {
        CHECK(CALL(&r, TIMMsgSendMessage("user2", kTIMConv_C2C, bad_elems[i], NULL, on_result, &r)) == ERR_INVALID_MSG_ELEM, "%s: %d %s", bad_elems[i], r.code, r.desc);
    }
    /* Nothing of those was stored. */
    CHECK(CALL(&r, TIMMsgGetMsgList("user2", kTIMConv_C2C, "{\"msg_getmsglist_param_count\":10}", on_result, &r)) == ERR_SUCC, "history");
    CHECK(strcmp(r.json, "[]") == 0, "history after refused sends: %s", r.json);
    CHECK(TIMUninit() == TIM_SUCC, "uninit");
    CHECK(TIMMsgSendMessage(NULL, kTIMConv_C2C, NULL, NULL, NULL, NULL) == TIM_ERR_SDKUNINIT, "send after uninit");
    printf("all checks passed\n");
    return 0;
}
