/* An embedder as a node of a cluster: TIMInit with timsg_config_cluster joins the cluster as
 * node "c". Driven line by line by the test (tests/cluster_jetstream.rs), which runs a
 * `timsg serve` node "a" beside it:
 *   1. alice logs in here and sends to bob: this node claims alice:bob. Prints "ready".
 *   2. waits for "go": meanwhile carol wrote to alice through node a (a owns carol:alice),
 *      and bob, through node a, read alice:bob and replied — forwarded here, to the owner.
 *   3. alice's listener hears both messages (one made on node a, one here), from the events
 *      stream; her history with carol, read here, is node a's (forwarded there); her reply to
 *      carol is stored by node a under the ID written to her buffer. Prints "to-carol=<id>".
 * argv[1] is a fresh data directory, argv[2] the NATS server's URL. */
#include "harness.h"

static Inbox inbox;

static void on_new_msg(const char* json, const void* ud) {
    (void)ud;
    inbox_add(&inbox, json);
}

static void wait_line(const char* expected) {
    char line[64];
    CHECK(fgets(line, sizeof line, stdin) != NULL, "stdin closed before \"%s\"", expected);
    CHECK(strncmp(line, expected, strlen(expected)) == 0, "got %s", line);
}

static void send_text(const char* to, const char* text, char* id_out, Result* r) {
    char json[256];
    snprintf(json, sizeof json, "{\"message_elem_array\":[{\"elem_type\":0,\"text_elem_content\":\"%s\"}]}", text);
    int code = CALL(r, TIMMsgSendMessage(to, kTIMConv_C2C, json, id_out, on_result, r));
    CHECK(code == 0, "send to %s: %d %s", to, code, r->desc);
    CHECK(id_out[0] != 0, "the message ID is in the buffer when the call returns");
    CHECK(strstr(r->json, id_out) != NULL, "the buffer's ID %s is the stored message's: %s", id_out, r->json);
}

int main(int argc, char** argv) {
    CHECK(argc == 3, "usage: cluster_node DATA_DIR NATS_URL");
    char config[1024];
    snprintf(config, sizeof config,
             "{\"sdk_config_config_file_path\":\"%s\",\"timsg_config_durability\":\"os\","
             "\"timsg_config_cluster\":{\"nats_url\":\"%s\",\"node\":\"c\",\"shards\":4,\"replicas\":1}}",
             argv[1], argv[2]);
    CHECK(TIMInit(1400000000, config) == TIM_SUCC, "init as a cluster node");
    inbox_init(&inbox);
    TIMAddRecvNewMsgCallback(on_new_msg, NULL);
    static Result r;
    CHECK(CALL(&r, TIMLogin("alice", "sig", on_result, &r)) == 0, "login: %s", r.desc);

    char id[128] = {0};
    send_text("bob", "from alice on c", id, &r);
    CHECK(strstr(r.json, "\"message_seq\":1") != NULL, "the first message of alice:bob: %s", r.json);
    printf("ready\n");
    fflush(stdout);

    wait_line("go");
    inbox_wait_for(&inbox, "from carol on a");
    inbox_wait_for(&inbox, "from bob through a");

    CHECK(CALL(&r, TIMMsgGetMsgList("carol", kTIMConv_C2C, "{}", on_result, &r)) == 0, "history: %s", r.desc);
    CHECK(strstr(r.json, "from carol on a") != NULL, "node a's conversation read from here: %s", r.json);
    send_text("carol", "to carol from c", id, &r);
    CHECK(strstr(r.json, "\"message_seq\":2") != NULL, "after carol's message: %s", r.json);
    printf("to-carol=%s\n", id);

    CHECK(CALL(&r, TIMLogout(on_result, &r)) == 0, "logout");
    CHECK(TIMUninit() == TIM_SUCC, "uninit");
    printf("all checks passed\n");
    return 0;
}
