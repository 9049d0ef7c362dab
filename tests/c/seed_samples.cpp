// The sample snippets of the seed API reference, compiled against include/TIMCloud.h with
// jsoncpp and run against libtimsg. Each snippet is included verbatim (tests/c/seed/*.inc)
// as the body of a method, with the variables the samples assume around it. Two samples
// carry typos no compiler accepts; their `.fixed.inc` twins change only those tokens:
//   TIMMsgListDelete: `const chardesc, const charjson_param, const voiduser_data` (the `*`s
//     were lost) and TIMMsgSetLocalCustomData: `json::Array` (jsoncpp has `Json::Value`).
// argv[1] is a fresh data directory.
#include "TIMCloud.h"

#include <json/json.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>
#include <thread>

class Samples {
  public:
    std::string login_id = "user1";
    std::string conv_id = "user2";
    std::string path_;
    std::string name = "downloaded.bin";
    uint32_t flag = 0;
    uint32_t type = kTIMDownload_File;
    std::string id;
    uint32_t business_id = 0;
    std::string url;
    const char* json_single_msg = nullptr;

    void send_message() {
#include "seed/TIMMsgSendMessage.inc"
        (void)ret;
    }
    void send_new_msg() {
#include "seed/TIMMsgSendNewMsg.inc"
        (void)ret;
    }
    void cancel_send() {
#include "seed/TIMMsgCancelSend.inc"
    }
    void find_messages() {
#include "seed/TIMMsgFindMessages.inc"
    }
    void revoke() {
#include "seed/TIMMsgRevoke.inc"
        (void)ret;
    }
    void find_by_msg_locator_list() {
#include "seed/TIMMsgFindByMsgLocatorList.inc"
    }
    void import_msg_list() {
#include "seed/TIMMsgImportMsgList.inc"
    }
    void get_msg_list() {
#include "seed/TIMMsgGetMsgList.inc"
        (void)ret;
    }
    void delete_msg() {
#include "seed/TIMMsgDelete.inc"
    }
    void list_delete() {
#include "seed/TIMMsgListDelete.fixed.inc"
    }
    void clear_history_message() {
#include "seed/TIMMsgClearHistoryMessage.inc"
    }
    void set_c2c_receive_message_opt() {
#include "seed/TIMMsgSetC2CReceiveMessageOpt.inc"
    }
    void get_c2c_receive_message_opt() {
#include "seed/TIMMsgGetC2CReceiveMessageOpt.inc"
    }
    void set_group_receive_message_opt() {
#include "seed/TIMMsgSetGroupReceiveMessageOpt.inc"
    }
    void download_elem_to_path() {
#include "seed/TIMMsgDownloadElemToPath.inc"
    }
    void download_merger_message() {
#include "seed/TIMMsgDownloadMergerMessage.inc"
    }
    void search_local_messages() {
#include "seed/TIMMsgSearchLocalMessages.inc"
        (void)ret;
    }
    void set_local_custom_data() {
#include "seed/TIMMsgSetLocalCustomData.fixed.inc"
    }
    void batch_send() {
#include "seed/TIMMsgBatchSend.inc"
        (void)ret;
    }
};

// A blocking wait for one callback, for the harness's own checks.
struct Waiter {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    int code = -1;
    std::string json;
    static void cb(int32_t code, const char*, const char* json, const void* ud) {
        auto* w = (Waiter*)ud;
        std::lock_guard<std::mutex> g(w->mu);
        w->code = code;
        w->json = json ? json : "";
        w->done = true;
        w->cv.notify_all();
    }
    void wait() {
        std::unique_lock<std::mutex> g(mu);
        if (!cv.wait_for(g, std::chrono::seconds(20), [this] { return done; })) {
            std::fprintf(stderr, "FAIL: no callback\n");
            std::exit(1);
        }
    }
};

#define CHECK(cond, what)                                                   \
    do {                                                                    \
        if (!(cond)) {                                                      \
            std::fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, what); \
            std::exit(1);                                                   \
        }                                                                   \
    } while (0)

int main(int argc, char** argv) {
    CHECK(argc == 2, "usage: seed_samples DATA_DIR");
    std::string config = std::string("{\"sdk_config_config_file_path\":\"") + argv[1] + "\",\"timsg_config_durability\":\"os\"}";
    CHECK(TIMInit(1400000000, config.c_str()) == TIM_SUCC, "init");
    Waiter login;
    CHECK(TIMLogin("user1", "sig", Waiter::cb, &login) == TIM_SUCC, "login");
    login.wait();
    CHECK(login.code == ERR_SUCC, "login ok");
    Waiter group;
    TIMGroupCreate("{\"create_group_param_group_id\":\"group_id\",\"create_group_param_group_name\":\"g\"}", Waiter::cb, &group);
    group.wait();

    Samples s;
    s.path_ = argv[1];
    s.send_message();
    s.send_new_msg();
    s.cancel_send();
    s.find_messages();
    s.revoke();
    s.find_by_msg_locator_list();
    s.import_msg_list();
    s.get_msg_list();
    s.delete_msg();
    s.list_delete();
    s.set_c2c_receive_message_opt();
    s.get_c2c_receive_message_opt();
    s.set_group_receive_message_opt();
    s.search_local_messages();
    s.set_local_custom_data();
    s.batch_send();

    // Media: download a file sent as user1, with the sample's own parameters.
    std::string file = std::string(argv[1]) + "/sample.bin";
    std::FILE* f = std::fopen(file.c_str(), "wb");
    CHECK(f != nullptr, "temp file");
    std::fputs("sample bytes", f);
    std::fclose(f);
    Json::Value fe;
    fe[kTIMElemType] = kTIMElem_File;
    fe[kTIMFileElemFilePath] = file;
    Json::Value fm;
    fm[kTIMMsgElemArray].append(fe);
    Waiter sent;
    TIMMsgSendMessage("user2", kTIMConv_C2C, fm.toStyledString().c_str(), nullptr, Waiter::cb, &sent);
    sent.wait();
    CHECK(sent.code == ERR_SUCC, "file sent");
    Json::Value sent_msg;
    Json::Reader().parse(sent.json, sent_msg);
    s.id = sent_msg[kTIMMsgElemArray][0][kTIMFileElemFileId].asString();
    s.url = sent_msg[kTIMMsgElemArray][0][kTIMFileElemUrl].asString();
    s.path_ = std::string(argv[1]) + "/dl";
    s.download_elem_to_path();

    // A merged message for the merger sample.
    Json::Value merge;
    merge[kTIMElemType] = kTIMElem_Merge;
    merge[kTIMMergerElemTitle] = "history";
    merge[kTIMMergerElemAbstractArray].append("user1: send text");
    merge[kTIMMergerElemCompatibleText] = "merged";
    merge[kTIMMergerElemMsgArray].append(sent_msg);
    Json::Value mm;
    mm[kTIMMsgElemArray].append(merge);
    Waiter merged;
    TIMMsgSendMessage("user2", kTIMConv_C2C, mm.toStyledString().c_str(), nullptr, Waiter::cb, &merged);
    merged.wait();
    CHECK(merged.code == ERR_SUCC, "merged sent");
    s.json_single_msg = merged.json.c_str();
    s.download_merger_message();
    s.clear_history_message();

    // The samples ran; what they did is in the store.
    Waiter batch;
    TIMMsgGetMsgList("user3", kTIMConv_C2C, "{}", Waiter::cb, &batch);
    batch.wait();
    CHECK(batch.json.find("this is batch send msg") != std::string::npos, "the batch-send sample reached user3");
    Waiter opts;
    TIMMsgGetC2CReceiveMessageOpt("[\"user1\",\"user2\"]", Waiter::cb, &opts);
    opts.wait();
    CHECK(opts.code == ERR_SUCC, "receive options");
    // The sample's download callback is empty, so nothing tells us it finished: wait for the
    // file's bytes to appear (a busy machine may take a while).
    std::string downloaded;
    for (int i = 0; i < 400 && downloaded != "sample bytes"; i++) {
        if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        std::FILE* dl = std::fopen((std::string(argv[1]) + "/dl\\downloaded.bin").c_str(), "rb");
        if (dl == nullptr) continue;
        char buf[64];
        size_t n = std::fread(buf, 1, sizeof buf, dl);
        std::fclose(dl);
        downloaded.assign(buf, n);
    }
    CHECK(downloaded == "sample bytes", "the download sample wrote its file");
    CHECK(TIMUninit() == TIM_SUCC, "uninit waits for every callback");
    std::printf("seed_samples.cpp: all samples ran\n");
    return 0;
}
