/*  broker_test_util: helpers of the broker tests.  */
#include "broker_test_util.h"

#include <msgpack.h>

#include "sd_broker.h"
#include "sd_mdwrk.h"

void test_broker_config(sd_config_broker *config, const char *bind)
{
    *config = (sd_config_broker){
        .bind = (char *)bind,
        .bus_publish_bind = "tcp://127.0.0.1:*",
        .bus_subscribe_bind = "tcp://127.0.0.1:*",
        .heartbeat_ms = TEST_HEARTBEAT_MS,
        .liveness = TEST_LIVENESS,
        .queue_limit = 100,
        .max_message_bytes = 1 << 20,
    };
}

int test_broker_start(test_broker *broker, const char *bind)
{
    sd_config_broker config;
    test_broker_config(&config, bind);
    return test_broker_start_config(broker, &config);
}

int test_broker_start_config(test_broker *broker, const sd_config_broker *config)
{
    memset(broker, 0, sizeof *broker);
    broker->actor = zactor_new(sd_broker_actor, (void *)config);
    if (!broker->actor)
        return -1;
    if (zstr_recvx(broker->actor, &broker->endpoint, &broker->publish, &broker->subscribe, NULL) !=
            3 ||
        broker->endpoint[0] == '\0') {
        test_broker_stop(broker);
        return -1;
    }
    return 0;
}

void test_broker_stop(test_broker *broker)
{
    zactor_destroy(&broker->actor);
    zstr_free(&broker->endpoint);
    zstr_free(&broker->publish);
    zstr_free(&broker->subscribe);
}

typedef struct {
    char name[80];
    zloop_t *loop;
    zlist_t *pending; //  test_pending_reply of deferred replies
} test_worker_context;

typedef struct {
    test_worker_context *context;
    sd_mdwrk *worker;
    zframe_t *client;
    zmsg_t *body;
} test_pending_reply;

static void s_pending_free(test_pending_reply **pending_p)
{
    test_pending_reply *pending = *pending_p;
    zframe_destroy(&pending->client);
    zmsg_destroy(&pending->body);
    free(pending);
    *pending_p = NULL;
}

static int s_reply_later(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    test_pending_reply *pending = arg;
    zlist_remove(pending->context->pending, pending);
    sd_mdwrk_reply(pending->worker, &pending->client, &pending->body);
    s_pending_free(&pending);
    return 0;
}

static void s_echo(sd_mdwrk *worker, zframe_t *client, zmsg_t *body, void *arg)
{
    test_worker_context *context = arg;
    zframe_t *first = zmsg_first(body);
    bool later = first && zframe_size(first) >= 6 && memcmp(zframe_data(first), "later:", 6) == 0;
    zmsg_pushstr(body, context->name);
    if (!later) {
        sd_mdwrk_reply(worker, &client, &body);
        return;
    }
    test_pending_reply *pending = calloc(1, sizeof *pending);
    assert(pending);
    *pending = (test_pending_reply){context, worker, client, body};
    zlist_append(context->pending, pending);
    zloop_timer(context->loop, 20, 1, s_reply_later, pending);
}

static int s_pipe(zloop_t *loop, zsock_t *pipe, void *arg)
{
    (void)loop;
    (void)arg;
    char *command = zstr_recv(pipe);
    bool stop = !command || strcmp(command, "$TERM") == 0;
    zstr_free(&command);
    return stop ? -1 : 0;
}

typedef struct {
    const char *endpoint;
    const char *service;
    int count;
    const sd_config_broker *broker;
} test_workers_args;

static void s_workers_actor(zsock_t *pipe, void *arg)
{
    test_workers_args *args = arg;
    int count = args->count;
    zloop_t *loop = zloop_new();
    sd_mdwrk **workers = calloc((size_t)count, sizeof *workers);
    test_worker_context *contexts = calloc((size_t)count, sizeof *contexts);
    assert(loop);
    assert(workers);
    assert(contexts);
    for (int i = 0; i < count; i++) {
        sd_mdwrk_options options = {
            .endpoint = args->endpoint,
            .service = args->service,
            .heartbeat_ms = TEST_HEARTBEAT_MS,
            .liveness = TEST_LIVENESS,
            .reconnect_ms = TEST_RECONNECT_MS,
            .broker = args->broker,
        };
        snprintf(contexts[i].name, sizeof contexts[i].name, "%s-%d", args->service, i);
        contexts[i].loop = loop;
        contexts[i].pending = zlist_new();
        workers[i] = sd_mdwrk_new(&options);
        assert(workers[i]);
        int rc = sd_mdwrk_attach(workers[i], loop, s_echo, &contexts[i]);
        assert(rc == 0);
        (void)rc;
    }
    zloop_reader(loop, pipe, s_pipe, NULL);
    zloop_set_nonstop(loop, true);
    zsock_signal(pipe, 0);
    zloop_start(loop);

    for (int i = 0; i < count; i++) {
        sd_mdwrk_destroy(&workers[i]);
        for (test_pending_reply *pending = zlist_pop(contexts[i].pending); pending;
             pending = zlist_pop(contexts[i].pending))
            s_pending_free(&pending);
        zlist_destroy(&contexts[i].pending);
    }
    zloop_destroy(&loop);
    free(workers);
    free(contexts);
}

zactor_t *test_workers_start(const char *endpoint, const char *service, int count)
{
    //  zactor_new returns after the actor's signal, so args may live on
    //  this stack: the actor reads them before signalling.
    return test_workers_start_config(endpoint, service, count, NULL);
}

zactor_t *test_workers_start_config(const char *endpoint, const char *service, int count,
                                    const sd_config_broker *broker)
{
    test_workers_args args = {endpoint, service, count, broker};
    return zactor_new(s_workers_actor, &args);
}

//  Reads the four counts of one service's map. Returns true when all are
//  there as unsigned integers.
static bool s_read_counts(const msgpack_object *map, test_service_counts *counts)
{
    static const char *const names[] = {"workers", "idle", "queued", "served"};
    uint64_t *fields[] = {&counts->workers, &counts->idle, &counts->queued, &counts->served};
    if (map->type != MSGPACK_OBJECT_MAP || map->via.map.size != 4)
        return false;
    int found = 0;
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *entry = &map->via.map.ptr[i];
        for (int k = 0; k < 4; k++) {
            if (entry->key.type == MSGPACK_OBJECT_STR &&
                entry->key.via.str.size == strlen(names[k]) &&
                memcmp(entry->key.via.str.ptr, names[k], strlen(names[k])) == 0 &&
                entry->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
                *fields[k] = entry->val.via.u64;
                found++;
            }
        }
    }
    return found == 4;
}

bool test_status(sd_mdcli *client, const char *service, test_service_counts *counts)
{
    memset(counts, 0, sizeof *counts);
    zmsg_t *request = zmsg_new();
    zmsg_t *reply = sd_mdcli_request(client, "mmi.status", &request, 5000);
    if (!reply)
        return false;
    zframe_t *frame = zmsg_first(reply);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init(&unpacked);
    size_t offset = 0;
    bool valid = zmsg_size(reply) == 1 &&
                 msgpack_unpack_next(&unpacked, (const char *)zframe_data(frame),
                                     zframe_size(frame), &offset) == MSGPACK_UNPACK_SUCCESS &&
                 unpacked.data.type == MSGPACK_OBJECT_MAP;
    for (uint32_t i = 0; valid && i < unpacked.data.via.map.size; i++) {
        const msgpack_object_kv *entry = &unpacked.data.via.map.ptr[i];
        if (entry->key.type == MSGPACK_OBJECT_STR && entry->key.via.str.size == strlen(service) &&
            memcmp(entry->key.via.str.ptr, service, strlen(service)) == 0)
            valid = s_read_counts(&entry->val, counts);
    }
    msgpack_unpacked_destroy(&unpacked);
    zmsg_destroy(&reply);
    return valid;
}

char *test_request(sd_mdcli *client, const char *service, const char *text, int timeout_ms)
{
    zmsg_t *body = zmsg_new();
    zmsg_addstr(body, text);
    zmsg_t *reply = sd_mdcli_request(client, service, &body, timeout_ms);
    if (!reply)
        return NULL;
    size_t length = 0;
    for (zframe_t *frame = zmsg_first(reply); frame; frame = zmsg_next(reply))
        length += zframe_size(frame) + 1;
    char *joined = calloc(1, length + 1);
    assert(joined);
    size_t index = 0;
    for (zframe_t *frame = zmsg_first(reply); frame; frame = zmsg_next(reply)) {
        if (index++ > 0)
            strcat(joined, "|");
        strncat(joined, (const char *)zframe_data(frame), zframe_size(frame));
    }
    zmsg_destroy(&reply);
    return joined;
}

bool test_wait_mmi(sd_mdcli *client, const char *service, const char *expected, int timeout_ms)
{
    int64_t deadline = zclock_mono() + timeout_ms;
    while (zclock_mono() < deadline) {
        char *code = test_request(client, "mmi.service", service, 2000);
        bool match = code && strcmp(code, expected) == 0;
        free(code);
        if (match)
            return true;
        zclock_sleep(50);
    }
    return false;
}

zmsg_t *test_recv(zsock_t *socket, int timeout_ms)
{
    zpoller_t *poller = zpoller_new(socket, NULL);
    zmsg_t *msg = zpoller_wait(poller, timeout_ms) ? zmsg_recv(socket) : NULL;
    zpoller_destroy(&poller);
    return msg;
}

bool test_frame_is(zframe_t *frame, const void *data, size_t size)
{
    return frame && zframe_size(frame) == size &&
           (size == 0 || memcmp(zframe_data(frame), data, size) == 0);
}
