/*  Tests of `statsdash keygen` and common/sd_curve: file modes, refusal to
    overwrite, loading with zcert and sd_curve, and CURVE sockets made from
    the written keys talking over loopback, with and without a zauth
    allowlist.

    Usage: keygen_test STATSDASH [TEST_NAME]
*/
#include "sd_curve.h"

#include <czmq.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

//  Generous, so that the tests pass under sanitizers on a loaded machine.
#define TEST_TIMEOUT_MS 20000

static const char *s_statsdash;

typedef struct {
    int status;                     //  exit status, or -1 when it did not exit
    char out[4096];
    char err[4096];
} run_result;

typedef struct {
    char dir[256];                  //  temporary folder, removed by teardown
} fixture;

static int s_setup(void **state)
{
    fixture *self = calloc(1, sizeof *self);
    assert_non_null(self);
    snprintf(self->dir, sizeof self->dir, "/tmp/sd-keygen-XXXXXX");
    assert_non_null(mkdtemp(self->dir));
    *state = self;
    return 0;
}

static int s_teardown(void **state)
{
    fixture *self = *state;
    char command[512];
    snprintf(command, sizeof command, "rm -rf '%s'", self->dir);
    assert_int_equal(system(command), 0);
    free(self);
    return 0;
}

static void s_path(char *buffer, const fixture *self, const char *name)
{
    snprintf(buffer, 512, "%s/%s", self->dir, name);
}

static void s_read_pipe(int fd, char *buffer, size_t size)
{
    size_t length = 0;
    ssize_t got;
    while (length + 1 < size && (got = read(fd, buffer + length, size - 1 - length)) > 0)
        length += (size_t)got;
    buffer[length] = '\0';
    close(fd);
}

//  Runs `statsdash keygen ARGS...` with the given umask.
static void s_keygen(run_result *result, mode_t mask, const char *arg1, const char *arg2)
{
    int out[2], err[2];
    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(err), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        umask(mask);
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        execl(s_statsdash, s_statsdash, "keygen", arg1, arg2, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    s_read_pipe(out[0], result->out, sizeof result->out);
    s_read_pipe(err[0], result->err, sizeof result->err);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    result->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static mode_t s_mode(const char *path)
{
    struct stat info;
    assert_int_equal(stat(path, &info), 0);
    return info.st_mode & 07777;
}

//  Writes a key pair named name with `statsdash keygen` and checks it worked.
static void s_make_pair(const fixture *self, const char *name)
{
    char path[512];
    s_path(path, self, name);
    run_result result;
    s_keygen(&result, 022, path, NULL);
    assert_int_equal(result.status, 0);
}

static void s_load_pair(const fixture *self, const char *name, zcert_t **cert)
{
    char public_path[512], secret_path[520], err[512] = "";
    s_path(public_path, self, name);
    snprintf(secret_path, sizeof secret_path, "%s_secret", public_path);
    *cert = sd_curve_load_pair(public_path, secret_path, err, sizeof err);
    if (!*cert)
        fail_msg("%s", err);
}

static void test_keygen_writes_files_with_modes(void **state)
{
    fixture *self = *state;
    const mode_t masks[] = {022, 077, 0};
    for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++) {
        char name[32], public_path[512], secret_path[520];
        snprintf(name, sizeof name, "host%zu", i);
        s_path(public_path, self, name);
        snprintf(secret_path, sizeof secret_path, "%s_secret", public_path);

        run_result result;
        s_keygen(&result, masks[i], public_path, NULL);
        assert_int_equal(result.status, 0);
        assert_int_equal(s_mode(public_path), 0644);
        assert_int_equal(s_mode(secret_path), 0600);

        //  The printed key is the one in the file, and both paths are named.
        zcert_t *cert = zcert_load(public_path);
        assert_non_null(cert);
        char expected[128];
        snprintf(expected, sizeof expected, "public key: %s\n", zcert_public_txt(cert));
        assert_non_null(strstr(result.out, expected));
        assert_non_null(strstr(result.out, public_path));
        assert_non_null(strstr(result.out, secret_path));
        zcert_destroy(&cert);
    }
}

static void test_keygen_keeps_existing_files(void **state)
{
    fixture *self = *state;
    char public_path[512], secret_path[520];
    s_path(public_path, self, "broker");
    snprintf(secret_path, sizeof secret_path, "%s_secret", public_path);
    s_make_pair(self, "broker");
    zcert_t *first = zcert_load(public_path);
    assert_non_null(first);

    run_result result;
    s_keygen(&result, 022, public_path, NULL);
    assert_int_equal(result.status, 1);
    assert_non_null(strstr(result.err, public_path));
    assert_non_null(strstr(result.err, "--force"));
    zcert_t *unchanged = zcert_load(public_path);
    assert_non_null(unchanged);
    assert_true(zcert_eq(first, unchanged));
    zcert_destroy(&unchanged);

    //  --force writes a new pair with the same modes.
    s_keygen(&result, 022, "--force", public_path);
    assert_int_equal(result.status, 0);
    zcert_t *replaced = zcert_load(public_path);
    assert_non_null(replaced);
    assert_false(zcert_eq(first, replaced));
    assert_int_equal(s_mode(secret_path), 0600);
    assert_int_equal(s_mode(public_path), 0644);
    zcert_destroy(&replaced);
    zcert_destroy(&first);
}

static void test_keygen_leaves_no_half_pair(void **state)
{
    fixture *self = *state;
    char public_path[512], secret_path[520];
    s_path(public_path, self, "lonely");
    snprintf(secret_path, sizeof secret_path, "%s_secret", public_path);
    FILE *file = fopen(secret_path, "w");
    assert_non_null(file);
    fclose(file);

    run_result result;
    s_keygen(&result, 022, public_path, NULL);
    assert_int_equal(result.status, 1);
    assert_non_null(strstr(result.err, secret_path));
    assert_int_equal(access(public_path, F_OK), -1);

    char missing[512];
    s_path(missing, self, "no-such-folder/key");
    s_keygen(&result, 022, missing, NULL);
    assert_int_equal(result.status, 1);
    assert_non_null(strstr(result.err, "no-such-folder/key"));
}

static void test_keygen_files_load(void **state)
{
    fixture *self = *state;
    char public_path[512], secret_path[520], err[512] = "";
    s_path(public_path, self, "worker");
    snprintf(secret_path, sizeof secret_path, "%s_secret", public_path);
    s_make_pair(self, "worker");

    //  zcert_load reads NAME_secret when it exists, so it gets both keys.
    zcert_t *loaded = zcert_load(public_path);
    assert_non_null(loaded);
    const byte zero[32] = {0};
    assert_memory_not_equal(zcert_secret_key(loaded), zero, 32);

    zcert_t *pair = sd_curve_load_pair(public_path, secret_path, err, sizeof err);
    assert_non_null(pair);
    assert_memory_equal(zcert_public_key(pair), zcert_public_key(loaded), 32);
    assert_memory_equal(zcert_secret_key(pair), zcert_secret_key(loaded), 32);

    zcert_t *public_only = sd_curve_load_public(public_path, err, sizeof err);
    assert_non_null(public_only);
    assert_memory_equal(zcert_public_key(public_only), zcert_public_key(loaded), 32);
    assert_memory_equal(zcert_secret_key(public_only), zero, 32);

    //  Without a public file to compare with, the secret file is enough.
    zcert_t *secret_only = sd_curve_load_pair(NULL, secret_path, err, sizeof err);
    assert_non_null(secret_only);
    assert_true(zcert_eq(secret_only, pair));

    //  Files that zcert_save writes (with a metadata section) load too.
    char saved_public[512], saved_secret[520];
    s_path(saved_public, self, "saved");
    snprintf(saved_secret, sizeof saved_secret, "%s_secret", saved_public);
    zcert_t *made = zcert_new();
    assert_non_null(made);
    zcert_set_meta(made, "name", "saved by zcert");
    assert_int_equal(zcert_save(made, saved_public), 0);
    assert_int_equal(chmod(saved_secret, 0600), 0);
    zcert_t *saved = sd_curve_load_pair(saved_public, saved_secret, err, sizeof err);
    assert_non_null(saved);
    assert_true(zcert_eq(saved, made));

    zcert_destroy(&saved);
    zcert_destroy(&made);
    zcert_destroy(&secret_only);
    zcert_destroy(&public_only);
    zcert_destroy(&pair);
    zcert_destroy(&loaded);
}

static void test_keygen_secret_mode_rejected(void **state)
{
    fixture *self = *state;
    char public_path[512], secret_path[520], err[512];
    s_path(public_path, self, "reporter");
    snprintf(secret_path, sizeof secret_path, "%s_secret", public_path);
    s_make_pair(self, "reporter");

    const mode_t loose[] = {0640, 0604, 0660, 0620, 0601};
    for (size_t i = 0; i < sizeof loose / sizeof loose[0]; i++) {
        assert_int_equal(chmod(secret_path, loose[i]), 0);
        err[0] = '\0';
        zcert_t *cert = sd_curve_load_pair(public_path, secret_path, err, sizeof err);
        assert_null(cert);
        assert_non_null(strstr(err, secret_path));
        assert_non_null(strstr(err, "chmod 600"));
    }

    //  The public key alone stays loadable from either file, whatever its mode.
    zcert_t *public_only = sd_curve_load_public(secret_path, err, sizeof err);
    assert_non_null(public_only);
    zcert_destroy(&public_only);

    assert_int_equal(chmod(secret_path, 0600), 0);
    zcert_t *cert = sd_curve_load_pair(public_path, secret_path, err, sizeof err);
    assert_non_null(cert);
    zcert_destroy(&cert);
}

static void test_keygen_bad_key_files_rejected(void **state)
{
    fixture *self = *state;
    s_make_pair(self, "a");
    s_make_pair(self, "b");
    char a_public[512], b_secret[520], garbage[512], err[512];
    s_path(a_public, self, "a");
    s_path(b_secret, self, "b_secret");
    s_path(garbage, self, "garbage");

    //  A public key file with another pair's secret key file.
    err[0] = '\0';
    assert_null(sd_curve_load_pair(a_public, b_secret, err, sizeof err));
    assert_non_null(strstr(err, a_public));
    assert_non_null(strstr(err, "does not match"));

    //  The public file where the secret file belongs.
    char a_copy[512];
    s_path(a_copy, self, "a_copy");
    char command[2048];
    snprintf(command, sizeof command, "cp '%s' '%s' && chmod 600 '%s'", a_public, a_copy, a_copy);
    assert_int_equal(system(command), 0);
    err[0] = '\0';
    assert_null(sd_curve_load_pair(NULL, a_copy, err, sizeof err));
    assert_non_null(strstr(err, "secret-key"));

    //  Text that is not a key file, a short key, and a missing file.
    const char *texts[] = {
        "\x01\x02 not ZPL at all {{{\n",
        "curve\n    public-key = \"short\"\n",
        "curve\n    public-key = \"~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\"\n",
        "",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        FILE *file = fopen(garbage, "w");
        assert_non_null(file);
        fputs(texts[i], file);
        fclose(file);
        err[0] = '\0';
        assert_null(sd_curve_load_public(garbage, err, sizeof err));
        assert_non_null(strstr(err, garbage));
    }
    assert_int_equal(unlink(garbage), 0);
    err[0] = '\0';
    assert_null(sd_curve_load_public(garbage, err, sizeof err));
    assert_non_null(strstr(err, garbage));
}

//  A ROUTER server with the CURVE key pair of server_name, bound to a
//  loopback port chosen by the system.
static zsock_t *s_server(const fixture *self, const char *server_name, char *endpoint)
{
    zcert_t *cert;
    s_load_pair(self, server_name, &cert);
    zsock_t *server = zsock_new(ZMQ_ROUTER);
    assert_non_null(server);
    assert_int_equal(sd_curve_apply_server(server, cert), 0);
    zsock_set_rcvtimeo(server, TEST_TIMEOUT_MS);
    assert_true(zsock_bind(server, "tcp://127.0.0.1:*") > 0);
    char *last = zsock_last_endpoint(server);
    snprintf(endpoint, 256, "%s", last);
    zstr_free(&last);
    zcert_destroy(&cert);
    return server;
}

//  A DEALER client with the key pair of client_name that trusts the public
//  key file of server_name. The monitor, when not NULL, receives the
//  client's handshake events.
static zsock_t *s_client(const fixture *self, const char *client_name, const char *server_name,
                         const char *endpoint, zsock_t **monitor)
{
    char server_public[512], err[512];
    s_path(server_public, self, server_name);
    zcert_t *server_cert = sd_curve_load_public(server_public, err, sizeof err);
    assert_non_null(server_cert);
    zcert_t *cert;
    s_load_pair(self, client_name, &cert);

    zsock_t *client = zsock_new(ZMQ_DEALER);
    assert_non_null(client);
    assert_int_equal(sd_curve_apply_client(client, cert, server_cert), 0);
    zsock_set_rcvtimeo(client, TEST_TIMEOUT_MS);
    zsock_set_linger(client, 0);
    if (monitor) {
        char monitor_endpoint[64];
        snprintf(monitor_endpoint, sizeof monitor_endpoint, "inproc://monitor-%s", client_name);
        int events = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                   | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
        assert_int_equal(zmq_socket_monitor(zsock_resolve(client), monitor_endpoint, events), 0);
        *monitor = zsock_new_pair(monitor_endpoint);
        assert_non_null(*monitor);
        zsock_set_rcvtimeo(*monitor, TEST_TIMEOUT_MS);
    }
    assert_int_equal(zsock_connect(client, "%s", endpoint), 0);
    zcert_destroy(&cert);
    zcert_destroy(&server_cert);
    return client;
}

//  Returns the first handshake event the monitor reports.
static uint16_t s_handshake_event(zsock_t *monitor)
{
    zmsg_t *event = zmsg_recv(monitor);
    assert_non_null(event);
    zframe_t *frame = zmsg_first(event);
    assert_true(zframe_size(frame) >= 2);
    uint16_t number;
    memcpy(&number, zframe_data(frame), sizeof number);
    zmsg_destroy(&event);
    return number;
}

//  Sends "ping" from client; the server replies "pong" to that client.
static void s_ping(zsock_t *client, zsock_t *server)
{
    assert_int_equal(zstr_send(client, "ping"), 0);
    zmsg_t *request = zmsg_recv(server);
    assert_non_null(request);
    assert_int_equal(zmsg_size(request), 2);
    zframe_t *body = zmsg_last(request);
    assert_true(zframe_streq(body, "ping"));
    zframe_reset(body, "pong", 4);
    assert_int_equal(zmsg_send(&request, server), 0);
    char *reply = zstr_recv(client);
    assert_non_null(reply);
    assert_string_equal(reply, "pong");
    zstr_free(&reply);
}

static void test_keygen_curve_exchange(void **state)
{
    fixture *self = *state;
    s_make_pair(self, "broker");
    s_make_pair(self, "cli");
    char endpoint[256];
    zsock_t *server = s_server(self, "broker", endpoint);
    zsock_t *client = s_client(self, "cli", "broker", endpoint, NULL);

    s_ping(client, server);

    zsock_destroy(&client);
    zsock_destroy(&server);
}

//  The server runs zauth with a folder that contains only the public key of
//  "allowed": that client talks, the "stranger" fails the handshake.
static void test_keygen_allowlist_rejects_stranger(void **state)
{
    fixture *self = *state;
    s_make_pair(self, "broker");
    s_make_pair(self, "allowed");
    s_make_pair(self, "stranger");
    char allow_dir[512], command[2048];
    s_path(allow_dir, self, "allowed-keys");
    snprintf(command, sizeof command, "mkdir '%s' && cp '%s/allowed' '%s/'", allow_dir, self->dir,
             allow_dir);
    assert_int_equal(system(command), 0);

    zactor_t *auth = zactor_new(zauth, NULL);
    assert_non_null(auth);
    assert_int_equal(zstr_sendx(auth, "CURVE", allow_dir, NULL), 0);
    assert_int_equal(zsock_wait(auth), 0);

    char endpoint[256];
    zsock_t *server = s_server(self, "broker", endpoint);
    zsock_t *allowed_monitor = NULL;
    zsock_t *stranger_monitor = NULL;
    zsock_t *allowed = s_client(self, "allowed", "broker", endpoint, &allowed_monitor);
    zsock_t *stranger = s_client(self, "stranger", "broker", endpoint, &stranger_monitor);

    assert_int_equal(s_handshake_event(allowed_monitor), ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    assert_int_equal(s_handshake_event(stranger_monitor), ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    s_ping(allowed, server);

    //  A message the stranger queued never reaches the server: the next
    //  message there is the allowed client's.
    zsock_set_sndtimeo(stranger, 0);
    zstr_send(stranger, "intruder");
    assert_int_equal(zstr_send(allowed, "second"), 0);
    zmsg_t *request = zmsg_recv(server);
    assert_non_null(request);
    assert_true(zframe_streq(zmsg_last(request), "second"));
    zmsg_destroy(&request);

    zsock_destroy(&stranger);
    zsock_destroy(&allowed);
    zsock_destroy(&stranger_monitor);
    zsock_destroy(&allowed_monitor);
    zsock_destroy(&server);
    zactor_destroy(&auth);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: keygen_test STATSDASH [TEST_NAME]\n");
        return 2;
    }
    s_statsdash = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keygen_writes_files_with_modes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_keygen_keeps_existing_files, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_keygen_leaves_no_half_pair, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_keygen_files_load, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_keygen_secret_mode_rejected, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_keygen_bad_key_files_rejected, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_keygen_curve_exchange, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_keygen_allowlist_rejects_stranger, s_setup,
                                        s_teardown),
    };
    if (argc > 2)
        cmocka_set_test_filter(argv[2]);
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    zsys_shutdown();
    return failed;
}
