/*  broker_reliability_test: requeueing after a worker is lost, deadlines
    and queue limits with `error` replies, mmi.status, and the client
    resending across a broker restart. Raw DEALER sockets play the client
    where every reply the broker sends must be seen, because sd_mdcli drops
    replies that match no outstanding request. argv[1], when given, selects
    one test by name.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <msgpack.h>

#include "broker_test_util.h"
#include "sd_log.h"
#include "sd_mdwrk.h"

//  Generous waits: tests must pass on a loaded machine under sanitizers.
#define WAIT_MS 10000
//  How long a test waits to show that no further message arrives.
#define QUIET_MS 1000

static zsock_t *s_raw_dealer(const char *endpoint)
{
    zsock_t *socket = zsock_new(ZMQ_DEALER);
    assert_non_null(socket);
    assert_int_equal(zsock_connect(socket, "%s", endpoint), 0);
    return socket;
}

//  Sends the frames [empty]["MDPC01"][service][body of size bytes].
static void s_client_send(zsock_t *client, const char *service, const void *body, size_t size)
{
    zmsg_t *msg = zmsg_new();
    zmsg_addmem(msg, "", 0);
    zmsg_addstr(msg, "MDPC01");
    zmsg_addstr(msg, service);
    zmsg_addmem(msg, body, size);
    assert_int_equal(zmsg_send(&msg, client), 0);
}

static void s_client_send_text(zsock_t *client, const char *service, const char *text)
{
    s_client_send(client, service, text, strlen(text));
}

//  Receives a client reply and checks [empty]["MDPC01"][service] and the
//  number of frames; returns the message.
static zmsg_t *s_client_reply(zsock_t *client, const char *service, size_t frames)
{
    zmsg_t *reply = test_recv(client, WAIT_MS);
    assert_non_null(reply);
    assert_int_equal(zmsg_size(reply), frames);
    assert_true(test_frame_is(zmsg_first(reply), "", 0));
    assert_true(test_frame_is(zmsg_next(reply), "MDPC01", 6));
    assert_true(test_frame_is(zmsg_next(reply), service, strlen(service)));
    return reply;
}

//  Expects the echo worker's reply [worker][text].
static void s_assert_echo(zsock_t *client, const char *service, const char *worker,
                          const char *text)
{
    zmsg_t *reply = s_client_reply(client, service, 5);
    assert_true(test_frame_is(zmsg_next(reply), worker, strlen(worker)));
    assert_true(test_frame_is(zmsg_next(reply), text, strlen(text)));
    zmsg_destroy(&reply);
}

//  Returns the next message that is not a worker HEARTBEAT, or NULL.
static zmsg_t *s_recv_skipping_heartbeats(zsock_t *socket)
{
    int64_t deadline = zclock_mono() + WAIT_MS;
    while (zclock_mono() < deadline) {
        zmsg_t *msg = test_recv(socket, WAIT_MS);
        if (!msg)
            return NULL;
        zframe_t *command = zmsg_size(msg) == 3 ? zmsg_last(msg) : NULL;
        if (!test_frame_is(command, "\x04", 1))
            return msg;
        zmsg_destroy(&msg);
    }
    return NULL;
}

//  Registers a raw worker of service.
static zsock_t *s_raw_worker(const char *endpoint, const char *service)
{
    zsock_t *worker = s_raw_dealer(endpoint);
    assert_int_equal(zstr_sendx(worker, "", "MDPW01", "\x01", service, NULL), 0);
    return worker;
}

//  Receives a REQUEST on a raw worker, checks its body and returns the
//  client address frame.
static zframe_t *s_take_request(zsock_t *worker, const char *text)
{
    zmsg_t *request = s_recv_skipping_heartbeats(worker);
    assert_non_null(request);
    assert_int_equal(zmsg_size(request), 6);
    assert_true(test_frame_is(zmsg_first(request), "", 0));
    assert_true(test_frame_is(zmsg_next(request), "MDPW01", 6));
    assert_true(test_frame_is(zmsg_next(request), "\x02", 1));
    zframe_t *client = zframe_dup(zmsg_next(request));
    assert_true(test_frame_is(zmsg_next(request), "", 0));
    assert_true(test_frame_is(zmsg_next(request), text, strlen(text)));
    zmsg_destroy(&request);
    return client;
}

static void s_assert_disconnect(zsock_t *worker)
{
    zmsg_t *msg = s_recv_skipping_heartbeats(worker);
    assert_non_null(msg);
    assert_int_equal(zmsg_size(msg), 3);
    assert_true(test_frame_is(zmsg_last(msg), "\x05", 1));
    zmsg_destroy(&msg);
}

//  Waits until mmi.status shows count workers for service.
static void s_wait_workers(sd_mdcli *status, const char *service, uint64_t count)
{
    int64_t deadline = zclock_mono() + WAIT_MS;
    test_service_counts counts;
    while (zclock_mono() < deadline) {
        if (test_status(status, service, &counts) && counts.workers == count)
            return;
        zclock_sleep(50);
    }
    fail_msg("service %s did not reach %d workers", service, (int)count);
}

static void test_requeue_expired_worker(void **state)
{
    (void)state;
    test_broker broker;
    assert_int_equal(test_broker_start(&broker, "tcp://127.0.0.1:*"), 0);
    sd_mdcli *status = sd_mdcli_new(broker.endpoint, NULL);
    zsock_t *asker = s_raw_dealer(broker.endpoint);

    //  The first worker takes job-1, then sends nothing more.
    zsock_t *first = s_raw_worker(broker.endpoint, "rq");
    assert_true(test_wait_mmi(status, "rq", "200", WAIT_MS));
    s_client_send_text(asker, "rq", "job-1");
    zframe_t *client = s_take_request(first, "job-1");
    assert_true(test_wait_mmi(status, "rq", "404", WAIT_MS));

    //  job-2 queues behind the requeued job-1, which the next worker
    //  serves first.
    s_client_send_text(asker, "rq", "job-2");
    zactor_t *workers = test_workers_start(broker.endpoint, "rq", 1);
    s_assert_echo(asker, "rq", "rq-0", "job-1");
    s_assert_echo(asker, "rq", "rq-0", "job-2");

    //  The late reply of the first worker is dropped, and the broker sends
    //  it DISCONNECT so that it registers again.
    zmsg_t *late = zmsg_new();
    zmsg_addmem(late, "", 0);
    zmsg_addstr(late, "MDPW01");
    zmsg_addmem(late, "\x03", 1);
    zmsg_append(late, &client);
    zmsg_addmem(late, "", 0);
    zmsg_addstr(late, "late");
    assert_int_equal(zmsg_send(&late, first), 0);
    s_assert_disconnect(first);
    zmsg_t *extra = test_recv(asker, QUIET_MS);
    assert_null(extra);

    test_service_counts counts;
    assert_true(test_status(status, "rq", &counts));
    assert_int_equal(counts.served, 2);

    zsock_destroy(&first);
    zsock_destroy(&asker);
    sd_mdcli_destroy(&status);
    zactor_destroy(&workers);
    test_broker_stop(&broker);
}

static void test_requeue_closed_worker(void **state)
{
    (void)state;
    test_broker broker;
    assert_int_equal(test_broker_start(&broker, "tcp://127.0.0.1:*"), 0);
    sd_mdcli *status = sd_mdcli_new(broker.endpoint, NULL);
    zsock_t *asker = s_raw_dealer(broker.endpoint);

    zsock_t *first = s_raw_worker(broker.endpoint, "rc");
    s_wait_workers(status, "rc", 1);
    s_client_send_text(asker, "rc", "job-1");
    zframe_t *client = s_take_request(first, "job-1");
    zframe_destroy(&client);

    //  A second worker registers while the first holds job-1; then the
    //  first closes its socket without DISCONNECT.
    zactor_t *workers = test_workers_start(broker.endpoint, "rc", 1);
    s_wait_workers(status, "rc", 2);
    zsock_destroy(&first);

    s_assert_echo(asker, "rc", "rc-0", "job-1");
    zmsg_t *extra = test_recv(asker, QUIET_MS);
    assert_null(extra);

    zsock_destroy(&asker);
    sd_mdcli_destroy(&status);
    zactor_destroy(&workers);
    test_broker_stop(&broker);
}

//  Sends a msgpack body {"v":2,"type":"fetch.request","job_id":id} with
//  "deadline_ms" when has_deadline.
static void s_send_job(zsock_t *client, const char *service, const char *id, bool has_deadline,
                       int64_t deadline_ms)
{
    msgpack_sbuffer buffer;
    msgpack_packer packer;
    msgpack_sbuffer_init(&buffer);
    msgpack_packer_init(&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map(&packer, has_deadline ? 4 : 3);
    msgpack_pack_str_with_body(&packer, "v", 1);
    msgpack_pack_int(&packer, 2);
    msgpack_pack_str_with_body(&packer, "type", 4);
    msgpack_pack_str_with_body(&packer, "fetch.request", 13);
    msgpack_pack_str_with_body(&packer, "job_id", 6);
    msgpack_pack_str_with_body(&packer, id, strlen(id));
    if (has_deadline) {
        msgpack_pack_str_with_body(&packer, "deadline_ms", 11);
        msgpack_pack_int64(&packer, deadline_ms);
    }
    s_client_send(client, service, buffer.data, buffer.size);
    msgpack_sbuffer_destroy(&buffer);
}

//  Returns the value of a string key in a msgpack map, or NULL.
static const msgpack_object *s_field(const msgpack_object *map, const char *key)
{
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *entry = &map->via.map.ptr[i];
        if (entry->key.type == MSGPACK_OBJECT_STR && entry->key.via.str.size == strlen(key) &&
            memcmp(entry->key.via.str.ptr, key, strlen(key)) == 0)
            return &entry->val;
    }
    return NULL;
}

static bool s_string_is(const msgpack_object *value, const char *text)
{
    return value && value->type == MSGPACK_OBJECT_STR && value->via.str.size == strlen(text) &&
           memcmp(value->via.str.ptr, text, strlen(text)) == 0;
}

//  Receives an `error` reply from service and checks its type, code and
//  id, and that its text contains each of the given words.
static void s_assert_error(zsock_t *client, const char *service, int64_t code, const char *id,
                           const char *word, const char *other_word)
{
    zmsg_t *reply = s_client_reply(client, service, 4);
    zframe_t *body = zmsg_next(reply);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init(&unpacked);
    size_t offset = 0;
    assert_int_equal(
        msgpack_unpack_next(&unpacked, (const char *)zframe_data(body), zframe_size(body), &offset),
        MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(unpacked.data.type, MSGPACK_OBJECT_MAP);
    assert_true(s_string_is(s_field(&unpacked.data, "type"), "error"));
    assert_true(s_string_is(s_field(&unpacked.data, "id"), id));
    const msgpack_object *code_field = s_field(&unpacked.data, "code");
    assert_non_null(code_field);
    assert_int_equal(code_field->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    assert_int_equal(code_field->via.u64, code);
    const msgpack_object *text = s_field(&unpacked.data, "text");
    assert_non_null(text);
    assert_int_equal(text->type, MSGPACK_OBJECT_STR);
    char copy[512];
    snprintf(copy, sizeof copy, "%.*s", (int)text->via.str.size, text->via.str.ptr);
    assert_non_null(strstr(copy, word));
    assert_non_null(strstr(copy, other_word));
    msgpack_unpacked_destroy(&unpacked);
    zmsg_destroy(&reply);
}

static void test_deadline_replies_408(void **state)
{
    (void)state;
    test_broker broker;
    assert_int_equal(test_broker_start(&broker, "tcp://127.0.0.1:*"), 0);
    zsock_t *asker = s_raw_dealer(broker.endpoint);
    char deadline_text[32];

    //  A deadline that has passed already gets the error at once.
    int64_t past = zclock_time() - 1000;
    s_send_job(asker, "nobody", "job-past", true, past);
    snprintf(deadline_text, sizeof deadline_text, "%" PRId64, past);
    s_assert_error(asker, "nobody", 408, "job-past", "nobody", deadline_text);

    //  One that passes while the request waits for a worker.
    int64_t soon = zclock_time() + 300;
    s_send_job(asker, "nobody", "job-soon", true, soon);
    snprintf(deadline_text, sizeof deadline_text, "%" PRId64, soon);
    s_assert_error(asker, "nobody", 408, "job-soon", "nobody", deadline_text);

    //  A body without deadline_ms waits for a worker however long it takes.
    s_client_send_text(asker, "nobody", "plain");
    zmsg_t *early = test_recv(asker, QUIET_MS);
    assert_null(early);
    zactor_t *workers = test_workers_start(broker.endpoint, "nobody", 1);
    s_assert_echo(asker, "nobody", "nobody-0", "plain");

    zsock_destroy(&asker);
    zactor_destroy(&workers);
    test_broker_stop(&broker);
}

static void test_queue_limit_replies_503(void **state)
{
    (void)state;
    sd_config_broker config;
    test_broker_config(&config, "tcp://127.0.0.1:*");
    config.queue_limit = 2;
    test_broker broker;
    assert_int_equal(test_broker_start_config(&broker, &config), 0);
    zsock_t *asker = s_raw_dealer(broker.endpoint);

    s_client_send_text(asker, "full", "queued-1");
    s_client_send_text(asker, "full", "queued-2");
    s_send_job(asker, "full", "job-over", false, 0);
    s_assert_error(asker, "full", 503, "job-over", "full", "queue_limit 2");

    //  The two queued requests are still served.
    zactor_t *workers = test_workers_start(broker.endpoint, "full", 1);
    s_assert_echo(asker, "full", "full-0", "queued-1");
    s_assert_echo(asker, "full", "full-0", "queued-2");

    zsock_destroy(&asker);
    zactor_destroy(&workers);
    test_broker_stop(&broker);
}

static void test_mmi_status_counts(void **state)
{
    (void)state;
    sd_config_broker config;
    test_broker_config(&config, "tcp://127.0.0.1:*");
    //  The raw worker below sends no heartbeats: it must outlive the test.
    config.liveness = 400;
    test_broker broker;
    assert_int_equal(test_broker_start_config(&broker, &config), 0);
    sd_mdcli *status = sd_mdcli_new(broker.endpoint, NULL);
    zsock_t *asker = s_raw_dealer(broker.endpoint);

    //  Two echo workers serve five requests.
    zactor_t *workers = test_workers_start(broker.endpoint, "echo", 2);
    s_wait_workers(status, "echo", 2);
    for (int i = 0; i < 5; i++) {
        char text[16];
        snprintf(text, sizeof text, "request-%d", i);
        s_client_send_text(asker, "echo", text);
        zmsg_t *reply = s_client_reply(asker, "echo", 5);
        zmsg_destroy(&reply);
    }

    //  A raw worker holds one request while two more wait.
    zsock_t *stuck = s_raw_worker(broker.endpoint, "stuck");
    s_wait_workers(status, "stuck", 1);
    s_client_send_text(asker, "stuck", "held");
    zframe_t *client = s_take_request(stuck, "held");
    zframe_destroy(&client);
    s_client_send_text(asker, "stuck", "waiting-1");
    s_client_send_text(asker, "stuck", "waiting-2");

    test_service_counts counts;
    int64_t deadline = zclock_mono() + WAIT_MS;
    while (zclock_mono() < deadline &&
           (!test_status(status, "stuck", &counts) || counts.queued != 2))
        zclock_sleep(50);
    assert_int_equal(counts.workers, 1);
    assert_int_equal(counts.idle, 0);
    assert_int_equal(counts.queued, 2);
    assert_int_equal(counts.served, 0);

    assert_true(test_status(status, "echo", &counts));
    assert_int_equal(counts.workers, 2);
    assert_int_equal(counts.idle, 2);
    assert_int_equal(counts.queued, 0);
    assert_int_equal(counts.served, 5);

    zsock_destroy(&stuck);
    zsock_destroy(&asker);
    sd_mdcli_destroy(&status);
    zactor_destroy(&workers);
    test_broker_stop(&broker);
}

//  Starts a broker on endpoint, retrying while the port of the previous
//  broker is still being released.
static void s_broker_start_on(test_broker *broker, const char *endpoint)
{
    int64_t deadline = zclock_mono() + WAIT_MS;
    while (test_broker_start(broker, endpoint) != 0) {
        assert_true(zclock_mono() < deadline);
        zclock_sleep(100);
    }
}

//  The client settings of the restart tests: silence is judged on the
//  test heartbeat.
static sd_config_broker s_client_config(void)
{
    return (sd_config_broker){.heartbeat_ms = TEST_HEARTBEAT_MS, .liveness = TEST_LIVENESS};
}

typedef struct {
    test_broker broker;
    char *endpoint;
    sd_mdcli *client;
    zactor_t *workers;
    int first;  //  replies to "first", sent before the restart
    int second; //  replies to "second", sent while no broker runs
    int other;
    int64_t done_at; //  zclock_mono() when both replies were in, else 0
} restart_state;

static void s_restart_reply(sd_mdcli *client, const char *service, zmsg_t *body, void *arg)
{
    (void)client;
    restart_state *state = arg;
    char *worker = zmsg_popstr(body);
    char *text = zmsg_popstr(body);
    if (strcmp(service, "echo") == 0 && text && strcmp(text, "first") == 0)
        state->first++;
    else if (strcmp(service, "echo") == 0 && text && strcmp(text, "second") == 0)
        state->second++;
    else
        state->other++;
    if (state->first > 0 && state->second > 0 && state->done_at == 0)
        state->done_at = zclock_mono();
    zstr_free(&worker);
    zstr_free(&text);
    zmsg_destroy(&body);
}

static void s_send_text(sd_mdcli *client, const char *text)
{
    zmsg_t *body = zmsg_new();
    zmsg_addstr(body, text);
    assert_int_equal(sd_mdcli_send(client, "echo", &body), 0);
}

//  Steps of the restart: stop the broker, send "second", start a new
//  broker and a worker.
static int s_stop_broker(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    restart_state *state = arg;
    test_broker_stop(&state->broker);
    return 0;
}

static int s_send_second(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    restart_state *state = arg;
    s_send_text(state->client, "second");
    return 0;
}

static int s_start_broker(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    restart_state *state = arg;
    s_broker_start_on(&state->broker, state->endpoint);
    state->workers = test_workers_start(state->endpoint, "echo", 1);
    return 0;
}

//  Ends the loop a while after both replies came, so that a duplicate
//  would be counted, or at the overall timeout.
static int s_restart_check(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    restart_state *state = arg;
    return state->done_at > 0 && zclock_mono() - state->done_at > QUIET_MS ? -1 : 0;
}

static int s_restart_timeout(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    (void)arg;
    return -1;
}

static void test_async_client_survives_restart(void **unused)
{
    (void)unused;
    restart_state state = {0};
    assert_int_equal(test_broker_start(&state.broker, "tcp://127.0.0.1:*"), 0);
    state.endpoint = strdup(state.broker.endpoint);
    sd_config_broker client_config = s_client_config();
    state.client = sd_mdcli_new(state.endpoint, &client_config);
    assert_non_null(state.client);
    zloop_t *loop = zloop_new();
    assert_int_equal(sd_mdcli_attach(state.client, loop, s_restart_reply, &state), 0);

    //  "first" waits in the old broker's queue (no worker) when it stops.
    s_send_text(state.client, "first");
    zloop_timer(loop, 300, 1, s_stop_broker, &state);
    zloop_timer(loop, 600, 1, s_send_second, &state);
    zloop_timer(loop, 1200, 1, s_start_broker, &state);
    zloop_timer(loop, 50, 0, s_restart_check, &state);
    zloop_timer(loop, 40000, 1, s_restart_timeout, NULL);
    zloop_start(loop);

    assert_int_equal(state.first, 1);
    assert_int_equal(state.second, 1);
    assert_int_equal(state.other, 0);
    assert_true(sd_mdcli_reconnects(state.client) >= 1);
    assert_int_equal(sd_mdcli_outstanding(state.client), 0);

    sd_mdcli_destroy(&state.client);
    zloop_destroy(&loop);
    zactor_destroy(&state.workers);
    test_broker_stop(&state.broker);
    free(state.endpoint);
}

//  Actor that restarts the broker in args (a test_broker whose endpoint
//  stays): stops it after 300 ms, starts a new one and a worker 600 ms
//  later, and stops both on "$TERM".
static void s_restart_actor(zsock_t *pipe, void *args)
{
    test_broker *broker = args;
    char *endpoint = strdup(broker->endpoint);
    zsock_signal(pipe, 0);
    zclock_sleep(300);
    test_broker_stop(broker);
    zclock_sleep(600);
    test_broker fresh;
    int64_t deadline = zclock_mono() + WAIT_MS;
    while (test_broker_start(&fresh, endpoint) != 0 && zclock_mono() < deadline)
        zclock_sleep(100);
    zactor_t *workers = test_workers_start(endpoint, "echo", 1);

    char *command = zstr_recv(pipe);
    zstr_free(&command);
    zactor_destroy(&workers);
    test_broker_stop(&fresh);
    free(endpoint);
}

static void test_blocking_client_survives_restart(void **state)
{
    (void)state;
    test_broker broker;
    assert_int_equal(test_broker_start(&broker, "tcp://127.0.0.1:*"), 0);
    sd_config_broker client_config = s_client_config();
    sd_mdcli *client = sd_mdcli_new(broker.endpoint, &client_config);
    assert_non_null(client);

    //  The request waits in the first broker's queue when it stops.
    zactor_t *restarter = zactor_new(s_restart_actor, &broker);
    char *reply = test_request(client, "echo", "during", 30000);
    assert_non_null(reply);
    assert_string_equal(reply, "echo-0|during");
    free(reply);
    assert_true(sd_mdcli_reconnects(client) >= 1);

    //  The next request gets its own reply, not a duplicate of the first.
    reply = test_request(client, "echo", "after", WAIT_MS);
    assert_non_null(reply);
    assert_string_equal(reply, "echo-0|after");
    free(reply);

    sd_mdcli_destroy(&client);
    zactor_destroy(&restarter);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requeue_expired_worker),
        cmocka_unit_test(test_requeue_closed_worker),
        cmocka_unit_test(test_deadline_replies_408),
        cmocka_unit_test(test_queue_limit_replies_503),
        cmocka_unit_test(test_mmi_status_counts),
        cmocka_unit_test(test_async_client_survives_restart),
        cmocka_unit_test(test_blocking_client_survives_restart),
    };
    sd_log_open("broker-test", SD_LOG_INFO, false);
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    zsys_shutdown();
    return failed;
}
