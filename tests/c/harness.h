/* Helpers for the C programs that test libtimsg: waiting for callbacks, collecting listener
 * output, and failing loudly. */
#ifndef TIMSG_TEST_HARNESS_H_
#define TIMSG_TEST_HARNESS_H_

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "TIMCloud.h"

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                      \
            fprintf(stderr, "\n");                                             \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

/* One call's callbacks (progress reports count too). */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls;
    int code;
    char desc[1024];
    char json[1 << 18];
    const void* user_data;
    pthread_t thread;
} Result;

static inline void result_init(Result* r) {
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
}

static inline void on_result(int32_t code, const char* desc, const char* json, const void* user_data) {
    Result* r = (Result*)user_data;
    pthread_mutex_lock(&r->mu);
    r->code = code;
    snprintf(r->desc, sizeof r->desc, "%s", desc ? desc : "(null)");
    snprintf(r->json, sizeof r->json, "%s", json ? json : "(null)");
    r->user_data = user_data;
    r->thread = pthread_self();
    r->calls++;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static inline void deadline_in(struct timespec* ts, int seconds) {
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += seconds;
}

/* Waits until `r` has had `calls` callbacks, at most `seconds`. */
static inline void wait_calls_within(Result* r, int calls, int seconds) {
    struct timespec ts;
    deadline_in(&ts, seconds);
    pthread_mutex_lock(&r->mu);
    while (r->calls < calls) {
        if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) != 0) {
            fprintf(stderr, "FAIL: no callback after %d s (had %d of %d)\n", seconds, r->calls, calls);
            exit(1);
        }
    }
    pthread_mutex_unlock(&r->mu);
}

/* Waits until `r` has had `calls` callbacks. */
static inline void wait_calls(Result* r, int calls) { wait_calls_within(r, calls, 20); }

/* Waits until the latest callback's JSON holds `needle` (progress reports come first). */
static inline void wait_json(Result* r, const char* needle) {
    struct timespec ts;
    deadline_in(&ts, 20);
    pthread_mutex_lock(&r->mu);
    while (strstr(r->json, needle) == NULL) {
        if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) != 0) {
            fprintf(stderr, "FAIL: %s never came; last: %s\n", needle, r->json);
            exit(1);
        }
    }
    pthread_mutex_unlock(&r->mu);
}

static inline int accepted_then_wait(Result* r, int ret, const char* what) {
    if (ret != TIM_SUCC) {
        fprintf(stderr, "FAIL: %s was refused with %d\n", what, ret);
        exit(1);
    }
    wait_calls(r, 1);
    return r->code;
}

/* Starts a call with a fresh result, checks it was accepted, waits for the callback and
 * returns its code. */
#define CALL(r, expr) (result_init(r), accepted_then_wait((r), (expr), #expr))

/* Text collected from a listener. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls;
    char text[1 << 20];
} Inbox;

static inline void inbox_init(Inbox* in) {
    memset(in, 0, sizeof(*in));
    pthread_mutex_init(&in->mu, NULL);
    pthread_cond_init(&in->cv, NULL);
}

static inline void inbox_add(Inbox* in, const char* json) {
    pthread_mutex_lock(&in->mu);
    size_t used = strlen(in->text);
    snprintf(in->text + used, sizeof in->text - used, "%s\n", json);
    in->calls++;
    pthread_cond_broadcast(&in->cv);
    pthread_mutex_unlock(&in->mu);
}

/* Waits until the inbox holds `needle`. */
static inline void inbox_wait_for(Inbox* in, const char* needle) {
    struct timespec ts;
    deadline_in(&ts, 20);
    pthread_mutex_lock(&in->mu);
    while (strstr(in->text, needle) == NULL) {
        if (pthread_cond_timedwait(&in->cv, &in->mu, &ts) != 0) {
            fprintf(stderr, "FAIL: %s never arrived; inbox:\n%s\n", needle, in->text);
            exit(1);
        }
    }
    pthread_mutex_unlock(&in->mu);
}

#endif
