/*  broker_mdp_test: the MDP broker with our client and worker code and with
    raw sockets that send the frames by hand. Each test runs its own broker
    on a loopback port chosen at run time. argv[1], when given, selects one
    test by name (CTest runs each test on its own).  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "broker_test_util.h"
#include "sd_log.h"
#include "sd_mdp.h"
#include "sd_mdwrk.h"

//  Generous waits: tests must pass on a loaded machine under sanitizers.
#define WAIT_MS 10000

//  Sends the strings as one message, one frame each, ending at NULL.
static void s_sendx(zsock_t *socket, const char *first, ...)
{
    zmsg_t *msg = zmsg_new();
    va_list args;
    va_start(args, first);
    for (const char *text = first; text; text = va_arg(args, const char *))
        zmsg_addstr(msg, text);
    va_end(args);
    assert_int_equal(zmsg_send(&msg, socket), 0);
}

static zsock_t *s_raw_dealer(const char *endpoint, const char *identity)
{
    zsock_t *socket = zsock_new(ZMQ_DEALER);
    assert_non_null(socket);
    if (identity)
        zsock_set_identity(socket, identity);
    assert_int_equal(zsock_connect(socket, "%s", endpoint), 0);
    return socket;
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

static void s_assert_disconnect(zsock_t *socket)
{
    zmsg_t *msg = s_recv_skipping_heartbeats(socket);
    assert_non_null(msg);
    assert_int_equal(zmsg_size(msg), 3);
    assert_true(test_frame_is(zmsg_first(msg), "", 0));
    assert_true(test_frame_is(zmsg_next(msg), "MDPW01", 6));
    assert_true(test_frame_is(zmsg_next(msg), "\x05", 1));
    zmsg_destroy(&msg);
}

static void s_assert_reply(sd_mdcli *client, const char *service, const char *text,
                           const char *expected)
{
    char *reply = test_request(client, service, text, WAIT_MS);
    assert_non_null(reply);
    assert_string_equal(reply, expected);
    free(reply);
}

static void test_one_worker_serves_requests(void **state)
{
    (void)state;
    test_broker broker;
    assert_int_equal(test_broker_start(&broker, "tcp://127.0.0.1:*"), 0);
    zactor_t *workers = test_workers_start(broker.endpoint, "echo", 1);
    sd_mdcli *client = sd_mdcli_new(broker.endpoint, NULL);
    assert_non_null(client);

    //  Every other request gets its reply later, from a timer.
    for (int i = 0; i < 60; i++) {
        char text[32];
        char expected[64];
        snprintf(text, sizeof text, i % 2 ? "later:%d" : "now:%d", i);
        snprintf(expected, sizeof expected, "echo-0|%s", text);
        s_assert_reply(client, "echo", text, expected);
    }

    sd_mdcli_destroy(&client);
    zactor_destroy(&workers);
    test_broker_stop(&broker);
}

static void test_three_workers_share_requests(void **state)
{
    (void)state;
    test_broker broker;
    assert_int_equal(test_broker_start(&broker, "tcp://127.0.0.1:*"), 0);
    zactor_t *workers = test_workers_start(broker.endpoint, "echo", 3);
    sd_mdcli *client = sd_mdcli_new(broker.endpoint, NULL);
    assert_non_null(client);

    //  Workers register in some order; once all three are in, the least
    //  recently used one gets each request, so all of them serve soon.
    int served[3] = {0, 0, 0};
    for (int i = 0; i < 600 && (!served[0] || !served[1] || !served[2] || i < 150); i++) {
        char text[32];
        snprintf(text, sizeof text, "request-%d", i);
        char *reply = test_request(client, "echo", text, WAIT_MS);
        assert_non_null(reply);
        const char *bar = strchr(reply, '|');
        assert_non_null(bar);
        assert_string_equal(bar + 1, text);
        assert_true(strncmp(reply, "echo-", 5) == 0 && bar - reply == 6);
        int index = reply[5] - '0';
        assert_in_range(index, 0, 2);
        served[index]++;
        free(reply);
    }
    assert_true(served[0] > 0);
    assert_true(served[1] > 0);
    assert_true(served[2] > 0);

    sd_mdcli_destroy(&client);
    zactor_destroy(&workers);
    test_broker_stop(&broker);
}

#define ASYNC_REQUESTS 90

typedef struct {
    int replies[ASYNC_REQUESTS]; //  replies received per request number
    int received;
    int malformed;
    int served[3];
} async_state;

static void s_async_reply(sd_mdcli *client, const char *service, zmsg_t *body, void *arg)
{
    (void)client;
    async_state *state = arg;
    char *worker = zmsg_popstr(body);
    char *text = zmsg_popstr(body);
    int number = -1;
    if (strcmp(service, "echo") == 0 && worker && text && zmsg_size(body) == 0 &&
        sscanf(text, "later:%d", &number) == 1 && number >= 0 && number < ASYNC_REQUESTS &&
        strlen(worker) == 6 && strncmp(worker, "echo-", 5) == 0 && worker[5] >= '0' &&
        worker[5] <= '2') {
        state->replies[number]++;
        state->served[worker[5] - '0']++;
    } else
        state->malformed++;
    state->received++;
    zstr_free(&worker);
    zstr_free(&text);
    zmsg_destroy(&body);
}

static int s_async_check(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    async_state *state = arg;
    return state->received >= ASYNC_REQUESTS ? -1 : 0;
}

static int s_async_timeout(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    (void)arg;
    return -1;
}

static void test_async_client_many_outstanding(void **state_unused)
{
    (void)state_unused;
    test_broker broker;
    assert_int_equal(test_broker_start(&broker, "tcp://127.0.0.1:*"), 0);
    zactor_t *workers = test_workers_start(broker.endpoint, "echo", 3);
    sd_mdcli *client = sd_mdcli_new(broker.endpoint, NULL);
    assert_non_null(client);

    //  All requests go out at once: the broker queues what no worker can
    //  take yet, and the deferred replies keep the workers busy.
    async_state state = {0};
    zloop_t *loop = zloop_new();
    assert_int_equal(sd_mdcli_attach(client, loop, s_async_reply, &state), 0);
    for (int i = 0; i < ASYNC_REQUESTS; i++) {
        zmsg_t *body = zmsg_new();
        zmsg_addstrf(body, "later:%d", i);
        assert_int_equal(sd_mdcli_send(client, "echo", &body), 0);
        assert_null(body);
    }
    zloop_timer(loop, 50, 0, s_async_check, &state);
    zloop_timer(loop, 30000, 1, s_async_timeout, NULL);
    zloop_start(loop);

    assert_int_equal(state.received, ASYNC_REQUESTS);
    assert_int_equal(state.malformed, 0);
    for (int i = 0; i < ASYNC_REQUESTS; i++)
        assert_int_equal(state.replies[i], 1);

    sd_mdcli_destroy(&client);
    zloop_destroy(&loop);
    zactor_destroy(&workers);
    test_broker_stop(&broker);
}

static void test_silent_worker_expires(void **state)
{
    (void)state;
    test_broker broker;
    assert_int_equal(test_broker_start(&broker, "tcp://127.0.0.1:*"), 0);
    sd_mdcli *client = sd_mdcli_new(broker.endpoint, NULL);
    assert_non_null(client);

    //  A raw worker sends READY and then nothing, not even heartbeats.
    zsock_t *silent = s_raw_dealer(broker.endpoint, NULL);
    s_sendx(silent, "", "MDPW01", "\x01", "silent", NULL);
    assert_true(test_wait_mmi(client, "silent", "200", WAIT_MS));
    assert_true(test_wait_mmi(client, "silent", "404", WAIT_MS));

    //  No live worker: the request waits in the queue.
    char *reply = test_request(client, "silent", "queued-1", 500);
    assert_null(reply);

    //  A new worker takes the queued request first, then the next one.
    zactor_t *workers = test_workers_start(broker.endpoint, "silent", 1);
    s_assert_reply(client, "silent", "queued-2", "silent-0|queued-1");
    reply = test_request(client, "silent", "queued-3", WAIT_MS);
    assert_non_null(reply);
    assert_string_equal(reply, "silent-0|queued-2");
    free(reply);

    zsock_destroy(&silent);
    sd_mdcli_destroy(&client);
    zactor_destroy(&workers);
    test_broker_stop(&broker);
}

static void test_busy_worker_expires(void **state)
{
    (void)state;
    test_broker broker;
    assert_int_equal(test_broker_start(&broker, "tcp://127.0.0.1:*"), 0);
    sd_mdcli *asker = sd_mdcli_new(broker.endpoint, NULL);
    sd_mdcli *status = sd_mdcli_new(broker.endpoint, NULL);
    assert_non_null(asker);
    assert_non_null(status);

    zsock_t *stuck = s_raw_dealer(broker.endpoint, NULL);
    s_sendx(stuck, "", "MDPW01", "\x01", "stuck", NULL);
    assert_true(test_wait_mmi(status, "stuck", "200", WAIT_MS));

    //  The worker receives REQUEST [empty]["MDPW01"][0x02][client][empty][body].
    zmsg_t *body = zmsg_new();
    zmsg_addstr(body, "held");
    assert_int_equal(sd_mdcli_send(asker, "stuck", &body), 0);
    zmsg_t *request = s_recv_skipping_heartbeats(stuck);
    assert_non_null(request);
    assert_int_equal(zmsg_size(request), 6);
    assert_true(test_frame_is(zmsg_first(request), "", 0));
    assert_true(test_frame_is(zmsg_next(request), "MDPW01", 6));
    assert_true(test_frame_is(zmsg_next(request), "\x02", 1));
    assert_true(zframe_size(zmsg_next(request)) > 0);
    assert_true(test_frame_is(zmsg_next(request), "", 0));
    assert_true(test_frame_is(zmsg_next(request), "held", 4));
    zmsg_destroy(&request);

    //  It keeps the request and goes silent: the broker expires it anyway.
    assert_true(test_wait_mmi(status, "stuck", "404", WAIT_MS));

    zsock_destroy(&stuck);
    sd_mdcli_destroy(&asker);
    sd_mdcli_destroy(&status);
    test_broker_stop(&broker);
}

//  Starts a broker on the given port, retrying while the port of the
//  previous broker is still being released.
static void s_broker_start_on(test_broker *broker, const char *endpoint)
{
    int64_t deadline = zclock_mono() + WAIT_MS;
    while (test_broker_start(broker, endpoint) != 0) {
        assert_true(zclock_mono() < deadline);
        zclock_sleep(100);
    }
}

static void test_worker_survives_broker_restart(void **state)
{
    (void)state;
    test_broker broker;
    assert_int_equal(test_broker_start(&broker, "tcp://127.0.0.1:*"), 0);
    char *endpoint = strdup(broker.endpoint);
    zactor_t *workers = test_workers_start(endpoint, "echo", 1);
    sd_mdcli *client = sd_mdcli_new(endpoint, NULL);
    s_assert_reply(client, "echo", "before", "echo-0|before");
    sd_mdcli_destroy(&client);

    //  The new broker does not know the worker until it sends READY again.
    test_broker_stop(&broker);
    s_broker_start_on(&broker, endpoint);
    assert_string_equal(broker.endpoint, endpoint);
    client = sd_mdcli_new(endpoint, NULL);
    s_assert_reply(client, "echo", "after", "echo-0|after");

    sd_mdcli_destroy(&client);
    zactor_destroy(&workers);
    test_broker_stop(&broker);
    free(endpoint);
}

static void test_malformed_client_frames_ignored(void **state)
{
    (void)state;
    test_broker broker;
    assert_int_equal(test_broker_start(&broker, "tcp://127.0.0.1:*"), 0);
    zactor_t *workers = test_workers_start(broker.endpoint, "echo", 1);
    zsock_t *raw = s_raw_dealer(broker.endpoint, NULL);

    s_sendx(raw, "", NULL);
    s_sendx(raw, "not empty", "MDPC01", "echo", "x", NULL);
    s_sendx(raw, "", "MDPC01", NULL);
    s_sendx(raw, "", "MDPC01", "", "body", NULL);
    s_sendx(raw, "", "MDPC01", "bad name", "body", NULL);
    s_sendx(raw, "", "MDPC01", "bad\nname", "body", NULL);
    s_sendx(raw, "", "MDPC01", "an-overlong-service-name-of-more-than-sixty-four-bytes-is-invalid!",
            "x", NULL);
    s_sendx(raw, "", "MDPC02", "echo", "body", NULL);
    s_sendx(raw, "", "", "", NULL);
    zmsg_t *binary = zmsg_new();
    zmsg_addmem(binary, "", 0);
    zmsg_addstr(binary, "MDPC01");
    zmsg_addmem(binary, "\xff\x00\xfe", 3);
    zmsg_addmem(binary, "\x00", 1);
    zmsg_send(&binary, raw);

    //  A client that leaves before its reply arrives.
    sd_mdcli *leaving = sd_mdcli_new(broker.endpoint, NULL);
    zmsg_t *body = zmsg_new();
    zmsg_addstr(body, "later:gone");
    assert_int_equal(sd_mdcli_send(leaving, "echo", &body), 0);
    zclock_sleep(50);
    sd_mdcli_destroy(&leaving);

    //  A request on the same garbage socket, then one from a proper client.
    s_sendx(raw, "", "MDPC01", "echo", "raw", NULL);
    zmsg_t *reply = test_recv(raw, WAIT_MS);
    assert_non_null(reply);
    assert_int_equal(zmsg_size(reply), 5);
    assert_true(test_frame_is(zmsg_first(reply), "", 0));
    assert_true(test_frame_is(zmsg_next(reply), "MDPC01", 6));
    assert_true(test_frame_is(zmsg_next(reply), "echo", 4));
    assert_true(test_frame_is(zmsg_next(reply), "echo-0", 6));
    assert_true(test_frame_is(zmsg_next(reply), "raw", 3));
    zmsg_destroy(&reply);

    sd_mdcli *client = sd_mdcli_new(broker.endpoint, NULL);
    s_assert_reply(client, "echo", "still", "echo-0|still");

    sd_mdcli_destroy(&client);
    zsock_destroy(&raw);
    zactor_destroy(&workers);
    test_broker_stop(&broker);
}

//  Registers a raw worker of service "bad", sends it frames, expects
//  DISCONNECT.
static void s_assert_worker_disconnected(const char *endpoint, bool register_first,
                                         const char *first, ...)
{
    zsock_t *raw = s_raw_dealer(endpoint, NULL);
    if (register_first)
        s_sendx(raw, "", "MDPW01", "\x01", "bad", NULL);
    zmsg_t *msg = zmsg_new();
    va_list args;
    va_start(args, first);
    for (const char *text = first; text; text = va_arg(args, const char *))
        zmsg_addstr(msg, text);
    va_end(args);
    assert_int_equal(zmsg_send(&msg, raw), 0);
    s_assert_disconnect(raw);
    zsock_destroy(&raw);
}

static void test_malformed_worker_disconnected(void **state)
{
    (void)state;
    test_broker broker;
    assert_int_equal(test_broker_start(&broker, "tcp://127.0.0.1:*"), 0);
    const char *endpoint = broker.endpoint;

    s_assert_worker_disconnected(endpoint, false, "", "MDPW01", "\x01", NULL);
    s_assert_worker_disconnected(endpoint, false, "", "MDPW01", "\x01", "mmi.service", NULL);
    s_assert_worker_disconnected(endpoint, false, "", "MDPW01", "\x01", "two words", NULL);
    s_assert_worker_disconnected(endpoint, false, "", "MDPW01", "\x01", "bad", "extra", NULL);
    s_assert_worker_disconnected(endpoint, false, "", "MDPW01", "\x04", NULL);
    s_assert_worker_disconnected(endpoint, false, "", "MDPW01", "\x09", NULL);
    s_assert_worker_disconnected(endpoint, true, "", "MDPW01", "\x01", "bad", NULL);
    s_assert_worker_disconnected(endpoint, true, "", "MDPW01", "\x03", "client", "", "x", NULL);
    s_assert_worker_disconnected(endpoint, true, "", "MDPW01", "\x04", "extra", NULL);
    s_assert_worker_disconnected(endpoint, true, "", "MDPW01", "\x09", NULL);
    s_assert_worker_disconnected(endpoint, true, "", "MDPW01", "\x02\x02", NULL);
    s_assert_worker_disconnected(endpoint, true, "", "MDPW01", "", NULL);
    s_assert_worker_disconnected(endpoint, true, "", "MDPW01", NULL);
    s_assert_worker_disconnected(endpoint, true, "", "MDPX01", "\x04", NULL);
    s_assert_worker_disconnected(endpoint, true, "x", NULL);

    sd_mdcli *client = sd_mdcli_new(endpoint, NULL);
    assert_true(test_wait_mmi(client, "bad", "404", WAIT_MS));

    //  A busy worker that replies to another client than the one it serves.
    zsock_t *raw = s_raw_dealer(endpoint, NULL);
    s_sendx(raw, "", "MDPW01", "\x01", "bad", NULL);
    assert_true(test_wait_mmi(client, "bad", "200", WAIT_MS));
    zmsg_t *body = zmsg_new();
    zmsg_addstr(body, "question");
    assert_int_equal(sd_mdcli_send(client, "bad", &body), 0);
    zmsg_t *request = s_recv_skipping_heartbeats(raw);
    assert_non_null(request);
    zmsg_destroy(&request);
    s_sendx(raw, "", "MDPW01", "\x03", "someone else", "", "answer", NULL);
    s_assert_disconnect(raw);
    zsock_destroy(&raw);

    //  A worker with a 255-byte routing id is still served normally. The
    //  client is a raw socket, so every frame of the reply is checked.
    char identity[256];
    memset(identity, 'k', 255);
    identity[255] = '\0';
    raw = s_raw_dealer(endpoint, identity);
    s_sendx(raw, "", "MDPW01", "\x01", "long", NULL);
    assert_true(test_wait_mmi(client, "long", "200", WAIT_MS));
    zsock_t *asker = s_raw_dealer(endpoint, NULL);
    s_sendx(asker, "", "MDPC01", "long", "ping", NULL);
    request = s_recv_skipping_heartbeats(raw);
    assert_non_null(request);
    assert_int_equal(zmsg_size(request), 6);
    zmsg_t *answer = zmsg_new();
    zmsg_addstr(answer, "");
    zmsg_addstr(answer, "MDPW01");
    zmsg_addstr(answer, "\x03");
    zframe_t *address = zmsg_first(request);
    for (int i = 0; i < 3; i++)
        address = zmsg_next(request);
    zframe_t *copy = zframe_dup(address);
    zmsg_append(answer, &copy);
    zmsg_addstr(answer, "");
    zmsg_addstr(answer, "pong");
    assert_int_equal(zmsg_send(&answer, raw), 0);
    zmsg_destroy(&request);

    zmsg_t *reply = test_recv(asker, WAIT_MS);
    assert_non_null(reply);
    assert_int_equal(zmsg_size(reply), 4);
    assert_true(test_frame_is(zmsg_first(reply), "", 0));
    assert_true(test_frame_is(zmsg_next(reply), "MDPC01", 6));
    assert_true(test_frame_is(zmsg_next(reply), "long", 4));
    assert_true(test_frame_is(zmsg_next(reply), "pong", 4));
    zmsg_destroy(&reply);
    zsock_destroy(&asker);

    sd_mdcli_destroy(&client);
    zsock_destroy(&raw);
    test_broker_stop(&broker);
}

static void test_mmi_service_codes(void **state)
{
    (void)state;
    test_broker broker;
    assert_int_equal(test_broker_start(&broker, "tcp://127.0.0.1:*"), 0);
    zactor_t *workers = test_workers_start(broker.endpoint, "echo", 1);
    sd_mdcli *client = sd_mdcli_new(broker.endpoint, NULL);

    assert_true(test_wait_mmi(client, "echo", "200", WAIT_MS));
    s_assert_reply(client, "mmi.service", "nobody", "404");
    s_assert_reply(client, "mmi.service", "bad name", "404");
    s_assert_reply(client, "mmi.workers", "echo", "501");

    //  mmi.service without a body frame names no service.
    zmsg_t *empty = zmsg_new();
    zmsg_t *reply = sd_mdcli_request(client, "mmi.service", &empty, WAIT_MS);
    assert_non_null(reply);
    assert_int_equal(zmsg_size(reply), 1);
    assert_true(test_frame_is(zmsg_first(reply), "404", 3));
    zmsg_destroy(&reply);

    sd_mdcli_destroy(&client);
    zactor_destroy(&workers);
    test_broker_stop(&broker);
}

static void test_bus_forwards_by_topic(void **state)
{
    (void)state;
    test_broker broker;
    assert_int_equal(test_broker_start(&broker, "tcp://127.0.0.1:*"), 0);
    zsock_t *publisher = zsock_new_pub(NULL);
    zsock_t *subscriber = zsock_new_sub(NULL, "table.r1.");
    assert_int_equal(zsock_connect(publisher, "%s", broker.publish), 0);
    assert_int_equal(zsock_connect(subscriber, "%s", broker.subscribe), 0);

    //  Subscriptions travel to the publisher asynchronously: publish until
    //  the first message gets through.
    zmsg_t *received = NULL;
    int64_t deadline = zclock_mono() + WAIT_MS;
    while (!received && zclock_mono() < deadline) {
        s_sendx(publisher, "table.r10.", "not for r1", NULL);
        s_sendx(publisher, "table.r1.", "for r1", NULL);
        received = test_recv(subscriber, 100);
    }
    assert_non_null(received);
    assert_int_equal(zmsg_size(received), 2);
    assert_true(test_frame_is(zmsg_first(received), "table.r1.", 9));
    assert_true(test_frame_is(zmsg_next(received), "for r1", 6));
    zmsg_destroy(&received);

    //  Whatever else arrived is for table.r1. too.
    while ((received = test_recv(subscriber, 200))) {
        assert_true(test_frame_is(zmsg_first(received), "table.r1.", 9));
        zmsg_destroy(&received);
    }

    zsock_destroy(&publisher);
    zsock_destroy(&subscriber);
    test_broker_stop(&broker);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_worker_serves_requests),
        cmocka_unit_test(test_three_workers_share_requests),
        cmocka_unit_test(test_async_client_many_outstanding),
        cmocka_unit_test(test_silent_worker_expires),
        cmocka_unit_test(test_busy_worker_expires),
        cmocka_unit_test(test_worker_survives_broker_restart),
        cmocka_unit_test(test_malformed_client_frames_ignored),
        cmocka_unit_test(test_malformed_worker_disconnected),
        cmocka_unit_test(test_mmi_service_codes),
        cmocka_unit_test(test_bus_forwards_by_topic),
    };
    sd_log_open("broker-test", SD_LOG_INFO, false);
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    zsys_shutdown();
    return failed;
}
