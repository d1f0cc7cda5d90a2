/*  Tests of sd_aggregator over loopback TCP. The test binds an XPUB in
    place of the broker's bus_subscribe side, so it sees the aggregator's
    subscriptions, and a SUB in place of the bus_publish side. The
    aggregator runs in a zactor connected to both. The test publishes raw
    parts and reads the normalized tables that come back.

    Usage: test_aggregator_bus [TEST-NAME]   (runs every test without a name)
*/
#include "sd_aggregator.h"
#include "sd_bus.h"
#include "sd_log.h"
#include "sd_period.h"

#include "test_parts.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

//  Generous, so that the tests pass on a loaded machine under sanitizers;
//  no test waits this long when it passes.
#define RECEIVE_TIMEOUT_MS 20000
#define SHARDS 2

typedef struct {
    zsock_t *parts;                 //  XPUB: the aggregator subscribes here
    zsock_t *tables;                //  SUB: the aggregator publishes here
    zactor_t *aggregator;
    int warmups;
} bus_fixture;

static const test_spec s_spec = {.keys = {"site", NULL},
                                 .sum = {"screenPageViews", "sessions", NULL},
                                 .derived = {{"pageviews", "scale", "screenPageViews", "", 1.0,
                                              "count"},
                                             {"pv_per_session", "ratio", "screenPageViews",
                                              "sessions", 1.0, "ratio"}},
                                 .sort_column = "pageviews",
                                 .descending = true,
                                 .previous = true};

static const test_columns s_columns = {"screenPageViews", "sessions", NULL};

static const test_part s_parts[] = {
    {"a", "current", NULL, NULL, 1, {{I(100), I(50)}}},
    {"a", "previous", NULL, NULL, 1, {{I(80), I(40)}}},
    {"b", "current", NULL, NULL, 1, {{I(300), I(100)}}},
    {"b", "previous", NULL, NULL, 1, {{I(200), I(100)}}},
};

//  Sends one message of the given frames on the parts socket.
static void s_send_frames(bus_fixture *fixture, const char *topic, const void *body, size_t size)
{
    zmsg_t *msg = zmsg_new();
    assert_non_null(msg);
    assert_int_equal(zmsg_addstr(msg, topic), 0);
    if (body)
        assert_int_equal(zmsg_addmem(msg, body, size), 0);
    assert_int_equal(zmsg_send(&msg, fixture->parts), 0);
}

static void s_send_msg(bus_fixture *fixture, const char *topic, const sd_msg *msg)
{
    uint8_t *body = NULL;
    size_t size = 0;
    sd_proto_error error;
    assert_int_equal(sd_msg_encode(msg, &body, &size, &error), 0);
    s_send_frames(fixture, topic, body, size);
    free(body);
}

//  Publishes part number index of s_parts for (request_id, table_id) on
//  the table's shard topic.
static void s_send_part(bus_fixture *fixture, const char *request_id, const char *table_id,
                        size_t index, int64_t expected_parts, int64_t deadline_ms)
{
    sd_table_spec spec;
    test_spec_build(&s_spec, &spec);
    sd_msg *part = test_part_build(&spec, s_columns, &s_parts[index], request_id, table_id,
                                   expected_parts, deadline_ms);
    char topic[32];
    sd_bus_raw_topic(topic, sizeof topic, sd_bus_shard(table_id, SHARDS));
    s_send_msg(fixture, topic, part);
    sd_msg_destroy(&part);
    sd_table_spec_clear(&spec);
}

//  Waits for one published table. Returns it, or NULL after timeout_ms.
static sd_msg *s_receive_table(bus_fixture *fixture, int timeout_ms)
{
    zsock_set_rcvtimeo(fixture->tables, timeout_ms);
    zmsg_t *frames = zmsg_recv(fixture->tables);
    if (!frames)
        return NULL;
    assert_int_equal(zmsg_size(frames), 2);
    char *topic = zmsg_popstr(frames);
    assert_non_null(topic);
    assert_string_equal(topic, "table.reporter-1.");
    zstr_free(&topic);

    zframe_t *body = zmsg_first(frames);
    sd_proto_error error;
    sd_msg *msg = sd_msg_decode(zframe_data(body), zframe_size(body), NULL, &error);
    if (!msg)
        fail_msg("published table does not decode: %s: %s", error.field, error.text);
    assert_int_equal(msg->type, SD_MSG_TABLE_NORMALIZED);
    zmsg_destroy(&frames);
    return msg;
}

//  Reads subscription messages on the XPUB until every expected topic was
//  subscribed to.
static void s_expect_subscriptions(bus_fixture *fixture, const char *const *topics,
                                   size_t count)
{
    bool seen[SHARDS] = {false};
    size_t remaining = count;
    zsock_set_rcvtimeo(fixture->parts, RECEIVE_TIMEOUT_MS);
    while (remaining > 0) {
        zframe_t *frame = zframe_recv(fixture->parts);
        assert_non_null(frame);
        const char *data = (const char *)zframe_data(frame);
        size_t size = zframe_size(frame);
        assert_true(size > 1);
        assert_int_equal(data[0], 1);
        bool known = false;
        for (size_t i = 0; i < count; i++) {
            if (size - 1 == strlen(topics[i]) && memcmp(data + 1, topics[i], size - 1) == 0) {
                known = true;
                remaining -= seen[i] ? 0 : 1;
                seen[i] = true;
            }
        }
        assert_true(known);
        zframe_destroy(&frame);
    }
}

//  Publishes one-part tables until one comes back, so that both of the
//  aggregator's connections are known to be up before the test proper.
static void s_warm_up(bus_fixture *fixture)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        char request_id[32];
        snprintf(request_id, sizeof request_id, "warmup-%d", fixture->warmups++);
        s_send_part(fixture, request_id, "warmup", 0, 1, sd_clock_ms() + 60000);
        sd_msg *table = s_receive_table(fixture, 200);
        if (table) {
            sd_msg_destroy(&table);
            return;
        }
    }
    fail_msg("the aggregator published nothing during warm-up");
}

static void s_start(bus_fixture *fixture, int shard)
{
    memset(fixture, 0, sizeof *fixture);
    fixture->parts = zsock_new(ZMQ_XPUB);
    fixture->tables = zsock_new(ZMQ_SUB);
    assert_non_null(fixture->parts);
    assert_non_null(fixture->tables);
    assert_true(zsock_bind(fixture->parts, "tcp://127.0.0.1:*") > 0);
    assert_true(zsock_bind(fixture->tables, "tcp://127.0.0.1:*") > 0);
    zsock_set_subscribe(fixture->tables, "table.");

    sd_aggregator_options options = {
        .bus_subscribe = zsock_endpoint(fixture->parts),
        .bus_publish = zsock_endpoint(fixture->tables),
        .shards = SHARDS,
        .shard = shard,
    };
    fixture->aggregator = zactor_new(sd_aggregator_actor, &options);
    assert_non_null(fixture->aggregator);
}

static void s_stop(bus_fixture *fixture)
{
    zactor_destroy(&fixture->aggregator);
    zsock_destroy(&fixture->parts);
    zsock_destroy(&fixture->tables);
}

static void s_start_all_shards(bus_fixture *fixture)
{
    static const char *const topics[] = {"raw.0.", "raw.1."};
    s_start(fixture, -1);
    s_expect_subscriptions(fixture, topics, 2);
    s_warm_up(fixture);
}

//  ---------------------------------------------------------------------
//  Tests

static void test_bus_complete_table(void **state)
{
    (void)state;
    bus_fixture fixture;
    s_start_all_shards(&fixture);
    int64_t deadline = sd_clock_ms() + 60000;
    char topic[32];
    sd_bus_raw_topic(topic, sizeof topic, sd_bus_shard("sites", SHARDS));

    //  Malformed messages and a duplicate among the parts change nothing.
    s_send_part(&fixture, "r1", "sites", 2, 4, deadline);
    s_send_frames(&fixture, topic, NULL, 0);
    s_send_frames(&fixture, topic, "\xc1\x00garbage", 9);
    s_send_part(&fixture, "r1", "sites", 0, 4, deadline);
    s_send_part(&fixture, "r1", "sites", 2, 4, deadline);
    sd_msg *wrong_type = sd_msg_new(SD_MSG_ERROR);
    assert_non_null(wrong_type);
    wrong_type->as.error = (sd_error_msg){strdup("x"), 500, strdup("not a part")};
    s_send_msg(&fixture, topic, wrong_type);
    sd_msg_destroy(&wrong_type);
    s_send_part(&fixture, "r1", "sites", 3, 4, deadline);
    s_send_part(&fixture, "r1", "sites", 1, 4, deadline);

    sd_msg *msg = s_receive_table(&fixture, RECEIVE_TIMEOUT_MS);
    assert_non_null(msg);
    const sd_table_normalized *table = &msg->as.table_normalized;
    assert_string_equal(table->request_id, "r1");
    assert_string_equal(table->table_id, "sites");
    assert_int_equal(table->data.row_count, 2);
    assert_int_equal(table->missing_count, 0);
    const sd_value *b = test_row(&table->data, 0);
    test_expect_string(&table->data, b, "site", "b");
    test_expect_int(&table->data, b, "pageviews", 300);
    test_expect_int(&table->data, b, "previous_change_pageviews", 100);
    test_expect_float(&table->data, b, "previous_percentage_pageviews", 50.0);
    test_expect_float(&table->data, b, "pv_per_session", 3.0);
    const sd_value *a = test_row(&table->data, 1);
    test_expect_string(&table->data, a, "site", "a");
    test_expect_float(&table->data, a, "previous_figure_pv_per_session", 2.0);
    test_expect_int(&table->data, table->totals, "pageviews", 400);
    test_expect_float(&table->data, table->totals, "pv_per_session", 400.0 / 150.0);
    test_expect_float(&table->data, table->totals, "previous_figure_pv_per_session",
                      280.0 / 140.0);
    sd_msg_destroy(&msg);

    //  A late part of the published table is dropped, not a new table:
    //  the next tables out are the two sent after it.
    s_send_part(&fixture, "r1", "sites", 1, 4, sd_clock_ms() - 1000);
    s_send_part(&fixture, "r2", "sites", 0, 1, deadline);
    s_send_part(&fixture, "r3", "sites", 0, 1, deadline);
    for (int i = 2; i <= 3; i++) {
        char expected[8];
        snprintf(expected, sizeof expected, "r%d", i);
        msg = s_receive_table(&fixture, RECEIVE_TIMEOUT_MS);
        assert_non_null(msg);
        assert_string_equal(msg->as.table_normalized.request_id, expected);
        sd_msg_destroy(&msg);
    }
    s_stop(&fixture);
}

static void test_bus_deadline_missing_part(void **state)
{
    (void)state;
    bus_fixture fixture;
    s_start_all_shards(&fixture);

    //  b/previous never comes: the table goes out at its deadline.
    int64_t deadline = sd_clock_ms() + 1500;
    s_send_part(&fixture, "r9", "late", 0, 4, deadline);
    s_send_part(&fixture, "r9", "late", 1, 4, deadline);
    s_send_part(&fixture, "r9", "late", 2, 4, deadline);

    sd_msg *msg = s_receive_table(&fixture, RECEIVE_TIMEOUT_MS);
    assert_non_null(msg);
    const sd_table_normalized *table = &msg->as.table_normalized;
    assert_string_equal(table->request_id, "r9");
    assert_string_equal(table->table_id, "late");
    assert_int_equal(table->data.row_count, 2);
    assert_int_equal(table->missing_count, 1);
    assert_string_equal(table->missing[0].site, "b");
    assert_string_equal(table->missing[0].period, "previous");
    assert_string_equal(table->missing[0].error, "");
    const sd_value *b = test_row(&table->data, 0);
    test_expect_string(&table->data, b, "site", "b");
    test_expect_bool(&table->data, b, "previous_new", true);
    test_expect_int(&table->data, b, "previous_figure_pageviews", 0);
    sd_msg_destroy(&msg);
    s_stop(&fixture);
}

//  A part whose last cell is bad is dropped whole, so its good first row
//  is not merged. The table it would have opened (expecting 2 parts, with
//  a deadline already past) stays closed, and the good part sent next
//  opens the table and completes it alone.
static void test_bus_malformed_rows(void **state)
{
    (void)state;
    static const test_part bad = {"a", "current", NULL, NULL, 2,
                                  {{I(999), I(999)}, {I(100), I(12345)}}};
    bus_fixture fixture;
    s_start_all_shards(&fixture);
    sd_table_spec spec;
    test_spec_build(&s_spec, &spec);
    sd_msg *part = test_part_build(&spec, s_columns, &bad, "r4", "sites", 2,
                                   sd_clock_ms() - 1000);
    uint8_t *body = NULL;
    size_t size = 0;
    sd_proto_error error;
    assert_int_equal(sd_msg_encode(part, &body, &size, &error), 0);
    //  12345 is a uint 16 (cd 30 39). A fixext 1 (d4 01 00) of the same
    //  size passes the scan of the body but is not a valid cell.
    uint8_t *cell = memmem(body, size, "\xcd\x30\x39", 3);
    assert_non_null(cell);
    memcpy(cell, "\xd4\x01\x00", 3);
    char topic[32];
    sd_bus_raw_topic(topic, sizeof topic, sd_bus_shard("sites", SHARDS));
    s_send_frames(&fixture, topic, body, size);
    free(body);
    sd_msg_destroy(&part);
    sd_table_spec_clear(&spec);

    s_send_part(&fixture, "r4", "sites", 0, 1, sd_clock_ms() + 60000);
    sd_msg *msg = s_receive_table(&fixture, RECEIVE_TIMEOUT_MS);
    assert_non_null(msg);
    const sd_table_normalized *table = &msg->as.table_normalized;
    assert_string_equal(table->request_id, "r4");
    assert_int_equal(table->missing_count, 0);
    assert_int_equal(table->data.row_count, 1);
    test_expect_int(&table->data, test_row(&table->data, 0), "pageviews", 100);
    sd_msg_destroy(&msg);
    s_stop(&fixture);
}

static void test_bus_one_shard(void **state)
{
    (void)state;
    bus_fixture fixture;
    static const char *const topics[] = {"raw.1."};
    s_start(&fixture, 1);
    s_expect_subscriptions(&fixture, topics, 1);
    s_stop(&fixture);
}

int main(int argc, char *argv[])
{
    sd_log_open("test_aggregator_bus", SD_LOG_INFO, false);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bus_complete_table),
        cmocka_unit_test(test_bus_deadline_missing_part),
        cmocka_unit_test(test_bus_one_shard),
        cmocka_unit_test(test_bus_malformed_rows),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("aggregator_bus", tests, NULL, NULL);
}
