/*  broker_curve_test: the broker with broker.curve: clients, workers and
    bus peers whose public keys are allowed exchange messages through it,
    and peers with other keys or no CURVE get nothing. Key pairs are made
    at run time with zcert in a private temporary folder. Also the
    classifier that decides whether a bind without CURVE is warned about.
    argv[1], when given, selects one test by name.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker_test_util.h"
#include "sd_broker.h"
#include "sd_curve_config.h"
#include "sd_log.h"

#define WAIT_MS 10000
//  How long a peer that must get nothing is watched.
#define QUIET_MS 2000

//  Names of the key pairs; all but "stranger" are in allowed_keys.
static const char *s_pairs[] = {"broker",    "client",     "worker",
                                "publisher", "subscriber", "stranger"};
#define PAIR_COUNT (sizeof s_pairs / sizeof s_pairs[0])
#define ALLOWED_COUNT 4

typedef struct {
    char folder[64];
    char public_files[PAIR_COUNT][128];
    char secret_files[PAIR_COUNT][128];
    char *allowed[ALLOWED_COUNT];
    sd_config_broker broker;            //  the broker's config
    sd_config_broker peers[PAIR_COUNT]; //  client settings per pair name
    test_broker running;
} curve_setup;

//  Writes a key pair as zcert does: NAME contains the public key and
//  NAME_secret both keys. The secret file gets mode 0600.
static void s_make_pair(curve_setup *setup, size_t index)
{
    snprintf(setup->public_files[index], sizeof setup->public_files[index], "%s/%s", setup->folder,
             s_pairs[index]);
    snprintf(setup->secret_files[index], sizeof setup->secret_files[index], "%s/%s_secret",
             setup->folder, s_pairs[index]);
    zcert_t *cert = zcert_new();
    assert_non_null(cert);
    assert_int_equal(zcert_save(cert, setup->public_files[index]), 0);
    zcert_destroy(&cert);
    assert_int_equal(chmod(setup->secret_files[index], 0600), 0);
}

//  Creates the keys and configs; the broker binds any loopback port.
static void s_setup(curve_setup *setup)
{
    memset(setup, 0, sizeof *setup);
    snprintf(setup->folder, sizeof setup->folder, "/tmp/broker-curve-test-XXXXXX");
    assert_non_null(mkdtemp(setup->folder));
    for (size_t i = 0; i < PAIR_COUNT; i++)
        s_make_pair(setup, i);
    for (size_t i = 0; i < ALLOWED_COUNT; i++)
        setup->allowed[i] = setup->public_files[i + 1];

    test_broker_config(&setup->broker, "tcp://127.0.0.1:*");
    setup->broker.curve_enabled = true;
    setup->broker.curve.public_key_file = setup->public_files[0];
    setup->broker.curve.secret_key_file = setup->secret_files[0];
    setup->broker.curve.allowed_keys.items = setup->allowed;
    setup->broker.curve.allowed_keys.count = ALLOWED_COUNT;
    for (size_t i = 0; i < PAIR_COUNT; i++) {
        sd_config_broker *peer = &setup->peers[i];
        peer->heartbeat_ms = TEST_HEARTBEAT_MS;
        peer->liveness = TEST_LIVENESS;
        peer->curve_enabled = true;
        peer->curve.public_key_file = setup->public_files[i];
        peer->curve.secret_key_file = setup->secret_files[i];
        peer->curve.server_public_key_file = setup->public_files[0];
    }
}

static void s_teardown(curve_setup *setup)
{
    test_broker_stop(&setup->running);
    zdir_t *folder = zdir_new(setup->folder, NULL);
    if (folder) {
        zdir_remove(folder, true);
        zdir_destroy(&folder);
    }
}

static sd_config_broker *s_peer(curve_setup *setup, const char *name)
{
    for (size_t i = 0; i < PAIR_COUNT; i++)
        if (strcmp(s_pairs[i], name) == 0)
            return &setup->peers[i];
    fail_msg("no key pair named %s", name);
    return NULL;
}

static void test_curve_allowed_keys_exchange(void **state)
{
    (void)state;
    curve_setup setup;
    s_setup(&setup);
    assert_int_equal(test_broker_start_config(&setup.running, &setup.broker), 0);
    const char *endpoint = setup.running.endpoint;
    zactor_t *workers = test_workers_start_config(endpoint, "echo", 1, s_peer(&setup, "worker"));
    sd_mdcli *client = sd_mdcli_new(endpoint, s_peer(&setup, "client"));
    assert_non_null(client);

    for (int i = 0; i < 5; i++) {
        char text[16];
        char expected[32];
        snprintf(text, sizeof text, "sealed-%d", i);
        snprintf(expected, sizeof expected, "echo-0|%s", text);
        char *reply = test_request(client, "echo", text, WAIT_MS);
        assert_non_null(reply);
        assert_string_equal(reply, expected);
        free(reply);
    }

    sd_mdcli_destroy(&client);
    zactor_destroy(&workers);
    s_teardown(&setup);
}

static void test_curve_unlisted_client_gets_nothing(void **state)
{
    (void)state;
    curve_setup setup;
    s_setup(&setup);
    assert_int_equal(test_broker_start_config(&setup.running, &setup.broker), 0);
    const char *endpoint = setup.running.endpoint;
    zactor_t *workers = test_workers_start_config(endpoint, "echo", 1, s_peer(&setup, "worker"));

    //  The allowed client proves the worker is there.
    sd_mdcli *client = sd_mdcli_new(endpoint, s_peer(&setup, "client"));
    char *reply = test_request(client, "echo", "allowed", WAIT_MS);
    assert_non_null(reply);
    free(reply);

    sd_mdcli *stranger = sd_mdcli_new(endpoint, s_peer(&setup, "stranger"));
    assert_non_null(stranger);
    reply = test_request(stranger, "echo", "unlisted", QUIET_MS);
    assert_null(reply);
    sd_mdcli *plain = sd_mdcli_new(endpoint, NULL);
    assert_non_null(plain);
    reply = test_request(plain, "echo", "no curve", QUIET_MS);
    assert_null(reply);

    //  A worker with an unlisted key never registers.
    zactor_t *stranger_worker =
        test_workers_start_config(endpoint, "hidden", 1, s_peer(&setup, "stranger"));
    zclock_sleep(QUIET_MS / 2);
    assert_false(test_wait_mmi(client, "hidden", "200", QUIET_MS));

    zactor_destroy(&stranger_worker);
    sd_mdcli_destroy(&plain);
    sd_mdcli_destroy(&stranger);
    sd_mdcli_destroy(&client);
    zactor_destroy(&workers);
    s_teardown(&setup);
}

//  Makes a bus socket of type that uses the named key pair (NULL for none).
static zsock_t *s_bus_socket(curve_setup *setup, int type, const char *pair, const char *endpoint)
{
    zsock_t *socket = zsock_new(type);
    assert_non_null(socket);
    char err[512] = "";
    assert_int_equal(
        sd_curve_config_apply_client(socket, pair ? s_peer(setup, pair) : NULL, err, sizeof err),
        0);
    if (type == ZMQ_SUB)
        zsock_set_subscribe(socket, "table.");
    assert_int_equal(zsock_connect(socket, "%s", endpoint), 0);
    return socket;
}

//  Receives everything waiting on socket within wait_ms and counts the
//  messages whose second frame is text.
static int s_count(zsock_t *socket, const char *text, int wait_ms)
{
    int count = 0;
    zmsg_t *msg;
    while ((msg = test_recv(socket, wait_ms))) {
        zframe_t *body = zmsg_size(msg) == 2 ? zmsg_last(msg) : NULL;
        if (test_frame_is(body, text, strlen(text)))
            count++;
        zmsg_destroy(&msg);
    }
    return count;
}

static void test_curve_unlisted_subscriber_receives_nothing(void **state)
{
    (void)state;
    curve_setup setup;
    s_setup(&setup);
    assert_int_equal(test_broker_start_config(&setup.running, &setup.broker), 0);
    zsock_t *publisher = s_bus_socket(&setup, ZMQ_PUB, "publisher", setup.running.publish);
    zsock_t *stranger_publisher = s_bus_socket(&setup, ZMQ_PUB, "stranger", setup.running.publish);
    zsock_t *subscriber = s_bus_socket(&setup, ZMQ_SUB, "subscriber", setup.running.subscribe);
    zsock_t *stranger = s_bus_socket(&setup, ZMQ_SUB, "stranger", setup.running.subscribe);
    zsock_t *plain = s_bus_socket(&setup, ZMQ_SUB, NULL, setup.running.subscribe);

    //  Subscriptions travel asynchronously: publish until the allowed
    //  subscriber gets a message, then keep publishing for a while.
    int64_t deadline = zclock_mono() + WAIT_MS;
    int received = 0;
    while (!received && zclock_mono() < deadline) {
        assert_int_equal(zstr_sendx(publisher, "table.r1.", "sealed", NULL), 0);
        assert_int_equal(zstr_sendx(stranger_publisher, "table.r1.", "forged", NULL), 0);
        received = s_count(subscriber, "sealed", 100);
    }
    assert_true(received > 0);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(zstr_sendx(publisher, "table.r1.", "sealed", NULL), 0);
        assert_int_equal(zstr_sendx(stranger_publisher, "table.r1.", "forged", NULL), 0);
        zclock_sleep(QUIET_MS / 10);
    }

    assert_int_equal(s_count(stranger, "sealed", 200), 0);
    assert_int_equal(s_count(plain, "sealed", 200), 0);
    assert_int_equal(s_count(subscriber, "forged", 200), 0);

    zsock_destroy(&plain);
    zsock_destroy(&stranger);
    zsock_destroy(&subscriber);
    zsock_destroy(&stranger_publisher);
    zsock_destroy(&publisher);
    s_teardown(&setup);
}

static void test_curve_rejects_readable_secret_file(void **state)
{
    (void)state;
    curve_setup setup;
    s_setup(&setup);
    assert_int_equal(chmod(setup.secret_files[0], 0644), 0);
    sd_broker *broker = sd_broker_new(&setup.broker);
    assert_null(broker);

    assert_int_equal(chmod(setup.secret_files[1], 0640), 0);
    sd_mdcli *client = sd_mdcli_new("tcp://127.0.0.1:9", s_peer(&setup, "client"));
    assert_null(client);

    //  A missing allowed key file stops the broker too.
    assert_int_equal(chmod(setup.secret_files[0], 0600), 0);
    setup.allowed[0] = "/nonexistent/statsdash-test-key";
    broker = sd_broker_new(&setup.broker);
    assert_null(broker);
    s_teardown(&setup);
}

static void test_endpoint_loopback_classifier(void **state)
{
    (void)state;
    static const struct {
        const char *endpoint;
        bool local;
    } cases[] = {
        {"tcp://127.0.0.1:5555", true},
        {"tcp://127.0.0.1:*", true},
        {"tcp://127.1.2.3:5555", true},
        {"tcp://localhost:5555", true},
        {"tcp://[::1]:5555", true},
        {"tcp://[::ffff:127.0.0.1]:5555", true},
        {"ipc:///run/statsdash/broker", true},
        {"inproc://broker", true},
        {"tcp://*:5555", false},
        {"tcp://0.0.0.0:5555", false},
        {"tcp://10.0.0.5:5555", false},
        {"tcp://128.0.0.1:5555", false},
        {"tcp://[::]:5555", false},
        {"tcp://[2001:db8::1]:5555", false},
        {"tcp://eth0:5555", false},
        {"tcp://broker.example:5555", false},
        {"tcp://127.0.0.1", false},
        {"tcp://[::1:5555", false},
        {"pgm://127.0.0.1;239.192.1.1:5555", false},
        {"", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool local = sd_broker_endpoint_is_local(cases[i].endpoint);
        if (local != cases[i].local)
            fail_msg("endpoint %s: expected %s", cases[i].endpoint,
                     cases[i].local ? "local" : "not local");
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_curve_allowed_keys_exchange),
        cmocka_unit_test(test_curve_unlisted_client_gets_nothing),
        cmocka_unit_test(test_curve_unlisted_subscriber_receives_nothing),
        cmocka_unit_test(test_curve_rejects_readable_secret_file),
        cmocka_unit_test(test_endpoint_loopback_classifier),
    };
    sd_log_open("broker-test", SD_LOG_INFO, false);
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    zsys_shutdown();
    return failed;
}
