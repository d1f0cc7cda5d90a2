/*  End-to-end test of statsdash-worker-ga. The setup generates a dataset
    into a temporary folder, an RSA key pair (openssl command) and a
    service-account key file, then starts statsdash-simulator,
    statsdash-broker and statsdash-worker-ga. The tests send fetch.request
    messages through the broker with sd_mdcli and read the table.raw parts
    from the table bus. Their numbers are checked against sums that
    worker_ga_expected.py computes from the CSV on its own.

    Usage: test_worker_ga_integration SIMULATOR BROKER WORKER GENERATOR
                                      EXPECTED_SCRIPT PYTHON
*/
#include "ga_test_util.h"
#include "sd_bus.h"
#include "sd_mdcli.h"
#include "sd_proto.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define S_SHARDS 3
#define S_REPLY_TIMEOUT_MS 30000
#define S_PART_TIMEOUT_MS 10000
#define S_START_TIMEOUT_MS 60000
#define S_MAX_PARTS 32

static const char *s_simulator_path;
static const char *s_broker_path;
static const char *s_worker_path;
static const char *s_generator_path;
static const char *s_expected_path;
static const char *s_python_path;

//  Everything the group setup starts, shared by the tests.
static struct {
    char *dir;
    char *csv;
    char endpoint[64];
    char bus_publish[64];
    char bus_subscribe[64];
    pid_t simulator;
    pid_t broker;
    pid_t worker;
    sd_mdcli *client;
    zsock_t *bus;
    int job_number;
} s_env;

//  One part read from the bus.
typedef struct {
    sd_msg *msg;
    char topic[32];
    char digest[65];                //  hex SHA-256 of the body as received
} s_part;

static const char *s_periods_json =
    "[{\"label\": \"current\", \"start\": \"2026-11-01\", \"end\": \"2026-11-30\"},"
    " {\"label\": \"previous\", \"start\": \"2026-10-01\", \"end\": \"2026-10-31\"},"
    " {\"label\": \"yearly\", \"start\": \"2025-11-01\", \"end\": \"2025-11-30\"}]";

//  -------------------------------------------------------------------------
//  Processes and files

static pid_t s_spawn(char *const argv[], const char *now)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (now)
            setenv("STATSDASH_NOW", now, 1);
        else
            unsetenv("STATSDASH_NOW");
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s\n", argv[0]);
        _exit(127);
    }
    return pid;
}

//  Runs a command to its end. Returns its exit status, or -1.
static int s_run(char *const argv[])
{
    pid_t pid = s_spawn(argv, NULL);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

//  Sends SIGTERM and waits up to 30 s. Returns the exit status, or -1 when
//  the process had to be killed or died of a signal.
static int s_stop(pid_t *pid)
{
    if (*pid <= 0)
        return -1;
    int status = 0;
    kill(*pid, SIGTERM);
    for (int i = 0; i < 300; i++) {
        if (waitpid(*pid, &status, WNOHANG) == *pid) {
            *pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        zclock_sleep(100);
    }
    kill(*pid, SIGKILL);
    waitpid(*pid, &status, 0);
    *pid = 0;
    return -1;
}

static int s_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&address, sizeof address) == 0 &&
        getsockname(fd, (struct sockaddr *)&address, &size) == 0)
        port = ntohs(address.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static char *s_read_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (!file)
        return NULL;
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    char buffer[8192];
    size_t got;
    while ((got = fread(buffer, 1, sizeof buffer, file)) > 0)
        fwrite(buffer, 1, got, out);
    fclose(out);
    fclose(file);
    return text;
}

static int s_write_file(const char *path, const char *text, int mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        return -1;
    size_t length = strlen(text);
    int rc = write(fd, text, length) == (ssize_t)length ? 0 : -1;
    close(fd);
    return rc;
}

//  Waits for the simulator's port file. Returns the port, or -1.
static int s_wait_port(const char *path)
{
    for (int waited = 0; waited < S_START_TIMEOUT_MS; waited += 100) {
        char *text = s_read_file(path);
        int port = text ? atoi(text) : 0;
        free(text);
        if (port > 0)
            return port;
        zclock_sleep(100);
    }
    return -1;
}

//  -------------------------------------------------------------------------
//  Setup

static int s_make_keys(void)
{
    char *private_path = zsys_sprintf("%s/key.pem", s_env.dir);
    char *public_path = zsys_sprintf("%s/key.pub.pem", s_env.dir);
    char *genpkey[] = {"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                       "rsa_keygen_bits:2048", "-out", private_path, "-quiet", NULL};
    char *pubout[] = {"openssl", "pkey", "-in", private_path, "-pubout", "-out", public_path,
                      NULL};
    int rc = s_run(genpkey) == 0 && s_run(pubout) == 0 ? 0 : -1;
    char *pem = rc == 0 ? s_read_file(private_path) : NULL;

    //  The key file is written with mode 0600: the worker rejects others.
    json_t *key = pem ? json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "service_account",
                                  "private_key_id", "integration-key", "private_key", pem,
                                  "client_email", "worker@statsdash-test.iam.gserviceaccount.com",
                                  "token_uri", "http://127.0.0.1:1/unused")
                      : NULL;
    char *text = key ? json_dumps(key, JSON_INDENT(2)) : NULL;
    char *key_path = zsys_sprintf("%s/service-account.json", s_env.dir);
    rc = text && s_write_file(key_path, text, 0600) == 0 ? 0 : -1;
    free(text);
    json_decref(key);
    free(pem);
    zstr_free(&private_path);
    zstr_free(&public_path);
    zstr_free(&key_path);
    return rc;
}

static int s_start_simulator(void)
{
    char *dataset = zsys_sprintf("%s/dataset", s_env.dir);
    char *port_file = zsys_sprintf("%s/simulator.port", s_env.dir);
    char *public_key = zsys_sprintf("%s/key.pub.pem", s_env.dir);
    char *generate[] = {(char *)s_generator_path, dataset, NULL};
    int port = -1;
    if (s_run(generate) == 0) {
        char *argv[] = {(char *)s_simulator_path, "--dataset", dataset, "--listen",
                        "127.0.0.1:0", "--port-file", port_file, "--public-key", public_key,
                        NULL};
        s_env.simulator = s_spawn(argv, "2026-12-03T00:00:00Z");
        port = s_env.simulator > 0 ? s_wait_port(port_file) : -1;
    }
    s_env.csv = zsys_sprintf("%s/ga4-facts.csv", dataset);
    zstr_free(&dataset);
    zstr_free(&port_file);
    zstr_free(&public_key);
    return port;
}

static char *s_write_config(int simulator_port)
{
    snprintf(s_env.endpoint, sizeof s_env.endpoint, "tcp://127.0.0.1:%d", s_free_port());
    snprintf(s_env.bus_publish, sizeof s_env.bus_publish, "tcp://127.0.0.1:%d", s_free_port());
    snprintf(s_env.bus_subscribe, sizeof s_env.bus_subscribe, "tcp://127.0.0.1:%d",
             s_free_port());
    char *api_base = zsys_sprintf("http://127.0.0.1:%d", simulator_port);
    char *token_uri = zsys_sprintf("%s/token", api_base);
    char *key_file = zsys_sprintf("%s/service-account.json", s_env.dir);

    //  A small page size makes the country query page; broken.example has
    //  a property the simulator does not know.
    json_t *config = json_pack(
        "{s:{s:s, s:s, s:s, s:i}, s:{s:i}, s:{s:s, s:s, s:s, s:i, s:i, s:{s:[{s:s},{s:s}],"
        " s:[{s:s}], s:[{s:s},{s:s}]}}, s:{s:s}}",
        "broker", "endpoint", s_env.endpoint, "bus_publish", s_env.bus_publish, "bus_subscribe",
        s_env.bus_subscribe, "heartbeat_ms", 1000, "aggregator", "shards", S_SHARDS, "ga",
        "api_base", api_base, "token_uri", token_uri, "key_file", key_file, "max_in_flight", 2,
        "page_size", 40, "sites", "gamesnews.example", "property", "310000001", "property",
        "310000002", "retrotech.example", "property", "310000003", "broken.example", "property",
        "310000004", "property", "310000009", "log", "level", "debug");
    char *path = zsys_sprintf("%s/statsdash.json", s_env.dir);
    if (!config || json_dump_file(config, path, JSON_INDENT(2)) != 0)
        zstr_free(&path);
    json_decref(config);
    zstr_free(&api_base);
    zstr_free(&token_uri);
    zstr_free(&key_file);
    return path;
}

//  -------------------------------------------------------------------------
//  Messages

//  Builds a fetch.request from JSON query descriptions: each has id,
//  table_id, dimensions, params and limit; all use the three periods.
static zmsg_t *s_fetch_request(const char *job_id, const char *site, json_t *queries)
{
    sd_msg *msg = sd_msg_new(SD_MSG_FETCH_REQUEST);
    sd_fetch_request *request = &msg->as.fetch_request;
    request->job_id = strdup(job_id);
    request->request_id = strdup("request-integration");
    request->reporter_id = strdup("r1");
    request->service = strdup("ga");
    request->site = strdup(site);
    request->deadline_ms = (int64_t)time(NULL) * 1000 + 60000;
    request->query_count = json_array_size(queries);
    request->queries = calloc(request->query_count, sizeof(sd_query));
    json_t *periods = json_loads(s_periods_json, 0, NULL);
    for (size_t i = 0; i < request->query_count; i++) {
        json_t *item = json_array_get(queries, i);
        sd_query *query = &request->queries[i];
        query->id = strdup(json_string_value(json_object_get(item, "id")));
        query->table_id = strdup(json_string_value(json_object_get(item, "table_id")));
        query->expected_parts = 3;
        query->api = strdup("ga4.runReport");
        query->params_json = strdup(json_string_value(json_object_get(item, "params")));
        query->limit = json_integer_value(json_object_get(item, "limit"));
        const char *metrics[] = {"screenPageViews", "totalUsers", "sessions",
                                 "userEngagementDuration"};
        for (size_t m = 0; m < 4; m++)
            assert_int_equal(sd_strings_push(&query->metrics, metrics[m]), 0);
        assert_int_equal(sd_strings_push(&query->spec.sum, "screenPageViews"), 0);
        json_t *dimensions = json_object_get(item, "dimensions");
        for (size_t d = 0; d < json_array_size(dimensions); d++) {
            const char *name = json_string_value(json_array_get(dimensions, d));
            assert_int_equal(sd_strings_push(&query->dimensions, name), 0);
            assert_int_equal(sd_strings_push(&query->spec.keys, name), 0);
        }
        query->period_count = json_array_size(periods);
        query->periods = calloc(query->period_count, sizeof(sd_period));
        for (size_t p = 0; p < query->period_count; p++) {
            json_t *period = json_array_get(periods, p);
            query->periods[p].label = strdup(json_string_value(json_object_get(period, "label")));
            query->periods[p].start = strdup(json_string_value(json_object_get(period, "start")));
            query->periods[p].end = strdup(json_string_value(json_object_get(period, "end")));
        }
    }
    json_decref(periods);
    uint8_t *data = NULL;
    size_t size = 0;
    sd_proto_error error;
    if (sd_msg_encode(msg, &data, &size, &error) != 0)
        fail_msg("cannot encode the fetch.request: %s: %s", error.field, error.text);
    zmsg_t *body = zmsg_new();
    zmsg_addmem(body, data, size);
    free(data);
    sd_msg_destroy(&msg);
    return body;
}

static sd_msg *s_decode_reply(zmsg_t **reply)
{
    assert_non_null(*reply);
    assert_int_equal(zmsg_size(*reply), 1);
    zframe_t *frame = zmsg_first(*reply);
    sd_proto_error error;
    sd_msg *msg = sd_msg_decode(zframe_data(frame), zframe_size(frame), NULL, &error);
    if (!msg)
        fail_msg("reply did not decode: %s: %s", error.field, error.text);
    zmsg_destroy(reply);
    return msg;
}

static void s_digest_hex(const void *data, size_t size, char hex[65])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    assert_int_equal(EVP_Digest(data, size, digest, &length, EVP_sha256(), NULL), 1);
    for (unsigned int i = 0; i < length; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

//  Reads bus messages until count parts of job_id arrived or the timeout
//  passes; parts of other jobs are dropped. Returns the number read.
static size_t s_collect_parts(const char *job_id, s_part *parts, size_t count, int timeout_ms)
{
    size_t found = 0;
    int64_t end = zclock_mono() + timeout_ms;
    zpoller_t *poller = zpoller_new(s_env.bus, NULL);
    while (found < count && zclock_mono() < end) {
        if (!zpoller_wait(poller, (int)(end - zclock_mono())))
            continue;
        zmsg_t *message = zmsg_recv(s_env.bus);
        assert_int_equal(zmsg_size(message), 2);
        char *topic = zmsg_popstr(message);
        zframe_t *body = zmsg_pop(message);
        sd_proto_error error;
        sd_msg *msg = sd_msg_decode(zframe_data(body), zframe_size(body), NULL, &error);
        if (!msg)
            fail_msg("part did not decode: %s: %s", error.field, error.text);
        assert_int_equal(msg->type, SD_MSG_TABLE_RAW);
        if (strcmp(msg->as.table_raw.job_id, job_id) == 0) {
            parts[found].msg = msg;
            snprintf(parts[found].topic, sizeof parts[found].topic, "%s", topic);
            s_digest_hex(zframe_data(body), zframe_size(body), parts[found].digest);
            found++;
        }
        else
            sd_msg_destroy(&msg);
        zstr_free(&topic);
        zframe_destroy(&body);
        zmsg_destroy(&message);
    }
    zpoller_destroy(&poller);
    return found;
}

static void s_free_parts(s_part *parts, size_t count)
{
    for (size_t i = 0; i < count; i++)
        sd_msg_destroy(&parts[i].msg);
}

//  Sends a fetch.request and returns the decoded reply.
static sd_msg *s_fetch(const char *job_id, const char *site, const char *queries_json)
{
    json_t *queries = json_loads(queries_json, 0, NULL);
    assert_non_null(queries);
    zmsg_t *body = s_fetch_request(job_id, site, queries);
    json_decref(queries);
    zmsg_t *reply = sd_mdcli_request(s_env.client, "ga", &body, S_REPLY_TIMEOUT_MS);
    if (!reply)
        fail_msg("no reply to %s within %d ms", job_id, S_REPLY_TIMEOUT_MS);
    return s_decode_reply(&reply);
}

//  The bus loses messages until the subscription has reached the worker's
//  PUB socket through the proxy, so a probe job runs until one of its parts
//  arrives.
static int s_wait_bus_ready(void)
{
    const char *query = "[{\"id\": \"probe\", \"table_id\": \"probe\", \"dimensions\": [],"
                        " \"params\": \"{}\", \"limit\": 0}]";
    for (int attempt = 0; attempt < 10; attempt++) {
        int status = 0;
        if (waitpid(s_env.worker, &status, WNOHANG) == s_env.worker) {
            fprintf(stderr, "statsdash-worker-ga exited at start\n");
            s_env.worker = 0;
            return -1;
        }
        if (waitpid(s_env.broker, &status, WNOHANG) == s_env.broker) {
            fprintf(stderr, "statsdash-broker exited at start\n");
            s_env.broker = 0;
            return -1;
        }
        char job_id[32];
        snprintf(job_id, sizeof job_id, "probe-%d", attempt);
        sd_msg *reply = s_fetch(job_id, "retrotech.example", query);
        sd_msg_destroy(&reply);
        s_part parts[3] = {{0}};
        size_t count = s_collect_parts(job_id, parts, 3, 2000);
        s_free_parts(parts, count);
        if (count == 3)
            return 0;
    }
    return -1;
}

static int s_setup(void **state)
{
    (void)state;
    s_env.dir = ga_test_temp_dir();
    if (!s_env.dir || s_make_keys() != 0)
        return -1;
    int port = s_start_simulator();
    char *config = port > 0 ? s_write_config(port) : NULL;
    if (!config)
        return -1;
    char *broker[] = {(char *)s_broker_path, "-c", config, NULL};
    char *worker[] = {(char *)s_worker_path, "-c", config, NULL};
    s_env.broker = s_spawn(broker, NULL);
    s_env.worker = s_spawn(worker, NULL);
    zstr_free(&config);
    s_env.client = sd_mdcli_new(s_env.endpoint, NULL);
    s_env.bus = zsock_new_sub(s_env.bus_subscribe, "raw.");
    if (!s_env.client || !s_env.bus || s_env.broker <= 0 || s_env.worker <= 0)
        return -1;
    return s_wait_bus_ready();
}

static int s_teardown(void **state)
{
    (void)state;
    sd_mdcli_destroy(&s_env.client);
    zsock_destroy(&s_env.bus);

    //  The worker must stop cleanly on SIGTERM; under AddressSanitizer a
    //  leak would make its exit status non-zero.
    int worker_status = s_stop(&s_env.worker);
    s_stop(&s_env.broker);
    s_stop(&s_env.simulator);
    ga_test_remove_dir(s_env.dir);
    free(s_env.dir);
    zstr_free(&s_env.csv);
    if (worker_status != 0)
        fprintf(stderr, "statsdash-worker-ga exited with status %d after SIGTERM\n",
                worker_status);
    return worker_status == 0 ? 0 : -1;
}

//  -------------------------------------------------------------------------
//  Expected numbers

//  Runs the Python helper over the CSV for each (properties, period,
//  dimensions) of the JSON list and returns its output.
static json_t *s_expected(json_t *queries)
{
    char *input = zsys_sprintf("%s/expected-in.json", s_env.dir);
    char *output = zsys_sprintf("%s/expected-out.json", s_env.dir);
    assert_int_equal(json_dump_file(queries, input, 0), 0);
    char *command = zsys_sprintf("'%s' '%s' '%s' < '%s' > '%s'", s_python_path, s_expected_path,
                                 s_env.csv, input, output);
    assert_int_equal(system(command), 0);
    json_t *result = json_load_file(output, 0, NULL);
    assert_true(json_is_array(result));
    zstr_free(&input);
    zstr_free(&output);
    zstr_free(&command);
    return result;
}

//  Returns {"properties", "start", "end", "dimensions"} for the helper.
static json_t *s_expected_query(const char *const *properties, size_t property_count,
                                const sd_period *period, const sd_strings *dimensions)
{
    json_t *list = json_array();
    for (size_t i = 0; i < property_count; i++)
        json_array_append_new(list, json_string(properties[i]));
    json_t *names = json_array();
    for (size_t i = 0; i < dimensions->count; i++)
        json_array_append_new(names, json_string(dimensions->items[i]));
    return json_pack("{s:o, s:s, s:s, s:o}", "properties", list, "start", period->start, "end",
                     period->end, "dimensions", names);
}

static double s_number(const sd_value *value)
{
    if (value->kind == SD_VALUE_INT)
        return (double)value->as.i;
    assert_int_equal(value->kind, SD_VALUE_FLOAT);
    return value->as.f;
}

static void s_assert_close(double actual, double expected, const char *what)
{
    if (fabs(actual - expected) > 1e-9 * fmax(1.0, fabs(expected)))
        fail_msg("%s: %.17g differs from the expected %.17g", what, actual, expected);
}

//  Returns the row key of a part row: its dimension values joined by U+001F.
static char *s_row_key(const sd_table_data *data, size_t row)
{
    char *key = strdup("");
    for (size_t c = 0; c < data->column_count; c++) {
        if (data->columns[c].kind != SD_COLUMN_DIMENSION)
            continue;
        const sd_value *cell = &data->cells[row * data->column_count + c];
        char *longer = zsys_sprintf("%s%s%s", key, *key ? "\x1f" : "", cell->as.s.ptr);
        free(key);
        key = longer;
    }
    return key;
}

//  Checks every row of the part against the expected sums, and that no
//  expected row is missing.
static void s_check_rows(const sd_table_raw *part, json_t *expected)
{
    const sd_table_data *data = &part->data;
    size_t first_metric = data->column_count - 4;
    assert_int_equal(data->row_count, json_object_size(expected));
    for (size_t r = 0; r < data->row_count; r++) {
        char *key = s_row_key(data, r);
        json_t *sums = json_object_get(expected, key);
        if (!sums)
            fail_msg("table %s period %s: unexpected row \"%s\"", part->table_id,
                     part->period.label, key);
        for (size_t m = 0; m < 4; m++) {
            const sd_value *cell = &data->cells[r * data->column_count + first_metric + m];
            if (m < 3)
                assert_int_equal(cell->kind, SD_VALUE_INT);
            char what[256];
            snprintf(what, sizeof what, "table %s period %s row \"%s\" metric %s",
                     part->table_id, part->period.label, key,
                     data->columns[first_metric + m].name);
            s_assert_close(s_number(cell), (double)json_integer_value(json_array_get(sums, m)),
                           what);
        }
        free(key);
    }
}

static const s_part *s_find_part(const s_part *parts, size_t count, const char *table_id,
                                 const char *label)
{
    for (size_t i = 0; i < count; i++) {
        const sd_table_raw *raw = &parts[i].msg->as.table_raw;
        if (strcmp(raw->table_id, table_id) == 0 && strcmp(raw->period.label, label) == 0)
            return &parts[i];
    }
    fail_msg("no part for table %s period %s", table_id, label);
    return NULL;
}

static const sd_part_status *s_find_status(const sd_fetch_reply *reply, const char *table_id,
                                           const char *part_id)
{
    for (size_t i = 0; i < reply->part_count; i++) {
        if (strcmp(reply->parts[i].table_id, table_id) == 0 &&
            strcmp(reply->parts[i].part_id, part_id) == 0)
            return &reply->parts[i];
    }
    fail_msg("fetch.reply has no status for %s %s", table_id, part_id);
    return NULL;
}

//  Checks the envelope of a part: topic, ids, columns and its status.
static void s_check_envelope(const s_part *part, const sd_fetch_reply *reply, const char *site,
                             const char *job_id)
{
    const sd_table_raw *raw = &part->msg->as.table_raw;
    char topic[32];
    sd_bus_raw_topic(topic, sizeof topic, sd_bus_shard(raw->table_id, S_SHARDS));
    assert_string_equal(part->topic, topic);
    assert_string_equal(raw->job_id, job_id);
    assert_string_equal(raw->request_id, "request-integration");
    assert_string_equal(raw->reporter_id, "r1");
    assert_string_equal(raw->site, site);
    assert_int_equal(raw->expected_parts, 3);
    char part_id[128];
    snprintf(part_id, sizeof part_id, "%s/%s", site, raw->period.label);
    assert_string_equal(raw->part_id, part_id);
    size_t columns = raw->data.column_count;
    assert_true(columns >= 4);
    assert_string_equal(raw->data.columns[columns - 4].name, "screenPageViews");
    assert_int_equal(raw->data.columns[columns - 4].kind, SD_COLUMN_METRIC);
    assert_string_equal(raw->data.columns[columns - 4].unit, "count");
    assert_string_equal(raw->data.columns[columns - 1].name, "userEngagementDuration");
    assert_string_equal(raw->data.columns[columns - 1].unit, "seconds");
    assert_int_equal(raw->spec.sum.count, 1);

    const sd_part_status *status = s_find_status(reply, raw->table_id, part_id);
    assert_int_equal(status->rows, (int64_t)raw->data.row_count);
    if (raw->error) {
        assert_non_null(status->error);
        assert_string_equal(status->error, raw->error);
        assert_string_equal(status->digest, "");
    }
    else {
        assert_null(status->error);
        assert_string_equal(status->digest, part->digest);
    }
}

//  -------------------------------------------------------------------------
//  Tests

static const char s_gamesnews_queries[] =
    "[{\"id\": \"summary\", \"table_id\": \"summary\", \"dimensions\": [], \"params\": \"{}\","
    "  \"limit\": 0},"
    " {\"id\": \"site_summary\", \"table_id\": \"site_summary\", \"dimensions\": [],"
    "  \"params\": \"{}\", \"limit\": 0},"
    " {\"id\": \"country\", \"table_id\": \"country\", \"dimensions\": [\"country\"],"
    "  \"params\": \"{\\\"orderBys\\\": [{\\\"metric\\\": {\\\"metricName\\\": \\\"totalUsers\\\"},"
    " \\\"desc\\\": true}]}\", \"limit\": 5}]";

static void test_two_properties_rolled_up(void **state)
{
    (void)state;
    const char *job_id = "job-gamesnews";
    sd_msg *reply_msg = s_fetch(job_id, "gamesnews.example", s_gamesnews_queries);
    assert_int_equal(reply_msg->type, SD_MSG_FETCH_REPLY);
    const sd_fetch_reply *reply = &reply_msg->as.fetch_reply;
    assert_string_equal(reply->job_id, job_id);
    assert_string_equal(reply->site, "gamesnews.example");
    assert_int_equal(reply->part_count, 9);

    s_part parts[S_MAX_PARTS] = {{0}};
    size_t count = s_collect_parts(job_id, parts, 9, S_PART_TIMEOUT_MS);
    assert_int_equal(count, 9);

    //  Expected sums: both properties together, then the first alone.
    static const char *const both[] = {"310000001", "310000002"};
    static const char *const tables[] = {"summary", "site_summary", "country"};
    static const char *const labels[] = {"current", "previous", "yearly"};
    json_t *queries = json_array();
    for (size_t t = 0; t < 3; t++) {
        for (size_t p = 0; p < 3; p++) {
            const sd_table_raw *raw = &s_find_part(parts, count, tables[t], labels[p])->msg->as.table_raw;
            json_array_append_new(queries, s_expected_query(both, 2, &raw->period, &raw->spec.keys));
            json_array_append_new(queries, s_expected_query(both, 1, &raw->period, &raw->spec.keys));
        }
    }
    json_t *expected = s_expected(queries);

    size_t index = 0;
    for (size_t t = 0; t < 3; t++) {
        for (size_t p = 0; p < 3; p++, index += 2) {
            const s_part *part = s_find_part(parts, count, tables[t], labels[p]);
            const sd_table_raw *raw = &part->msg->as.table_raw;
            s_check_envelope(part, reply, "gamesnews.example", job_id);
            if (raw->error)
                fail_msg("part %s %s failed: %s", tables[t], labels[p], raw->error);
            assert_true(raw->data.row_count > 0);
            s_check_rows(raw, json_array_get(expected, index));

            //  The summary differs from the first property alone, so the
            //  second one was added in.
            json_t *alone = json_object_get(json_array_get(expected, index + 1), "");
            if (t < 2)
                assert_true(raw->data.cells[0].as.i > json_integer_value(json_array_get(alone, 0)));
        }
    }
    json_decref(expected);
    json_decref(queries);
    s_free_parts(parts, count);
    sd_msg_destroy(&reply_msg);
}

static void test_unknown_property_fails_parts(void **state)
{
    (void)state;
    const char *job_id = "job-broken";
    const char *queries = "[{\"id\": \"summary\", \"table_id\": \"summary\", \"dimensions\": [],"
                          " \"params\": \"{}\", \"limit\": 0}]";
    sd_msg *reply_msg = s_fetch(job_id, "broken.example", queries);
    const sd_fetch_reply *reply = &reply_msg->as.fetch_reply;
    assert_int_equal(reply->part_count, 3);
    s_part parts[3] = {{0}};
    size_t count = s_collect_parts(job_id, parts, 3, S_PART_TIMEOUT_MS);
    assert_int_equal(count, 3);
    for (size_t i = 0; i < count; i++) {
        const sd_table_raw *raw = &parts[i].msg->as.table_raw;
        s_check_envelope(&parts[i], reply, "broken.example", job_id);
        assert_non_null(raw->error);
        assert_non_null(strstr(raw->error, "site broken.example property 310000009"));
        assert_non_null(strstr(raw->error, "403 PERMISSION_DENIED"));
        assert_int_equal(raw->data.row_count, 0);
        assert_int_equal(raw->data.column_count, 4);
    }
    for (size_t i = 0; i < reply->part_count; i++)
        assert_non_null(reply->parts[i].error);
    s_free_parts(parts, count);
    sd_msg_destroy(&reply_msg);
}

static void test_unknown_site_fails_parts(void **state)
{
    (void)state;
    const char *job_id = "job-unknown-site";
    const char *queries = "[{\"id\": \"summary\", \"table_id\": \"summary\", \"dimensions\": [],"
                          " \"params\": \"{}\", \"limit\": 0}]";
    sd_msg *reply_msg = s_fetch(job_id, "nosuch.example", queries);
    const sd_fetch_reply *reply = &reply_msg->as.fetch_reply;
    assert_int_equal(reply->part_count, 3);
    s_part parts[3] = {{0}};
    size_t count = s_collect_parts(job_id, parts, 3, S_PART_TIMEOUT_MS);
    assert_int_equal(count, 3);
    for (size_t i = 0; i < count; i++) {
        const sd_table_raw *raw = &parts[i].msg->as.table_raw;
        s_check_envelope(&parts[i], reply, "nosuch.example", job_id);
        assert_non_null(raw->error);
        assert_non_null(strstr(raw->error, "nosuch.example is not in ga.sites"));
    }
    s_free_parts(parts, count);
    sd_msg_destroy(&reply_msg);
}

static void test_undecodable_body_gets_error(void **state)
{
    (void)state;
    zmsg_t *body = zmsg_new();
    zmsg_addstr(body, "this is not msgpack");
    zmsg_t *reply = sd_mdcli_request(s_env.client, "ga", &body, S_REPLY_TIMEOUT_MS);
    sd_msg *msg = s_decode_reply(&reply);
    assert_int_equal(msg->type, SD_MSG_ERROR);
    assert_int_equal(msg->as.error.code, SD_ERROR_BAD_REQUEST);
    assert_non_null(strstr(msg->as.error.text, "fetch.request"));
    sd_msg_destroy(&msg);

    //  The worker still serves jobs afterwards.
    const char *queries = "[{\"id\": \"summary\", \"table_id\": \"summary\", \"dimensions\": [],"
                          " \"params\": \"{}\", \"limit\": 0}]";
    msg = s_fetch("job-after-bad-body", "retrotech.example", queries);
    assert_int_equal(msg->type, SD_MSG_FETCH_REPLY);
    assert_int_equal(msg->as.fetch_reply.part_count, 3);
    assert_null(msg->as.fetch_reply.parts[0].error);
    sd_msg_destroy(&msg);
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s SIMULATOR BROKER WORKER GENERATOR EXPECTED_SCRIPT PYTHON\n",
                argv[0]);
        return 2;
    }
    s_simulator_path = argv[1];
    s_broker_path = argv[2];
    s_worker_path = argv[3];
    s_generator_path = argv[4];
    s_expected_path = argv[5];
    s_python_path = argv[6];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_properties_rolled_up),
        cmocka_unit_test(test_unknown_property_fails_parts),
        cmocka_unit_test(test_unknown_site_fails_parts),
        cmocka_unit_test(test_undecodable_body_gets_error),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
