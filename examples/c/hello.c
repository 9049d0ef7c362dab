/* The smallest libtimsg program: log in, send a message, print the result. */
#include <stdio.h>
#include <unistd.h>

#include "TIMCloud.h"

static volatile int done = 0;

static void on_sent(int32_t code, const char* desc, const char* json, const void* user_data) {
    printf("%s: code %d %s\n%s\n", (const char*)user_data, code, desc, json);
    done = 1;
}

static void on_login(int32_t code, const char* desc, const char* json, const void* user_data) {
    (void)json; (void)user_data;
    printf("login: code %d %s\n", code, desc);
    char id[128];
    const char* msg = "{\"message_elem_array\":[{\"elem_type\":0,\"text_elem_content\":\"hello\"}]}";
    if (TIMMsgSendMessage("bob", kTIMConv_C2C, msg, id, on_sent, "send") != TIM_SUCC) done = 1;
}

int main(int argc, char** argv) {
    const char* dir = argc > 1 ? argv[1] : "timsg-data";
    char config[512];
    snprintf(config, sizeof config, "{\"%s\":\"%s\"}", kTIMSdkConfigConfigFilePath, dir);
    if (TIMInit(1400000000, config) != TIM_SUCC) return 1;
    if (TIMLogin("alice", "a UserSig", on_login, NULL) != TIM_SUCC) return 1;
    while (!done) usleep(1000);
    return TIMUninit() == TIM_SUCC ? 0 : 1;
}
