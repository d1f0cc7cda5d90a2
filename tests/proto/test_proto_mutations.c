/*  proto mutated bodies: thousands of valid bodies with bytes changed,
    inserted or cut off must decode or be rejected, never crash, read out
    of bounds or leak (the sanitizer build checks those). A body that still
    decodes must encode again and decode to the same fields. Each body also
    goes through sd_table_raw_decode_rows, which must agree with
    sd_msg_decode.
*/
#include "proto_samples.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define ROUNDS_PER_TYPE 3000

//  xorshift64: a fixed seed keeps every run the same.
static uint64_t s_random(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

//  msgpack type bytes that declare lengths, plus a few edge values.
static const uint8_t s_interesting[] = {0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
                                        0xc0, 0xc1, 0xc4, 0xc6, 0xcb, 0xcf, 0xd3, 0xd9,
                                        0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xff};

//  Writes a mutated copy of body into out (room for size + 8 bytes) and
//  returns its size.
static size_t s_mutate(const uint8_t *body, size_t size, uint8_t *out, uint64_t *state)
{
    size_t at = s_random(state) % size;

    memcpy(out, body, size);
    switch (s_random(state) % 5) {
    case 0:
        for (uint64_t n = 1 + s_random(state) % 3; n > 0; n--)
            out[s_random(state) % size] = (uint8_t)s_random(state);
        return size;
    case 1:
        out[at] = s_interesting[s_random(state) % sizeof(s_interesting)];
        return size;
    case 2:
        return at;
    case 3:
        memmove(out + at + 1, out + at, size - at);
        out[at] = (uint8_t)s_random(state);
        return size + 1;
    default: {
        size_t cut = 1 + s_random(state) % 8;
        if (at + cut > size)
            cut = size - at;
        memmove(out + at, out + at + cut, size - at - cut);
        return size - cut;
    }
    }
}

static void s_check_accepted(const sd_msg *msg)
{
    uint8_t *data;
    size_t size;
    sd_proto_error err;

    if (sd_msg_encode(msg, &data, &size, &err) != 0)
        fail_msg("a decoded %s does not encode: %s: %s", sd_msg_type_name(msg->type), err.field,
                 err.text);
    sd_msg *again = sd_msg_decode(data, size, NULL, &err);
    assert_non_null(again);
    assert_int_equal(proto_compare(msg, again, stderr), 0);
    sd_msg_destroy(&again);
    free(data);
}

//  sd_table_raw_decode_rows must agree with sd_msg_decode on every body:
//  the same fields and rows for a table.raw, a rejection on "type" for
//  another type, and the same error for a body sd_msg_decode rejects.
static void s_check_row_reader(const uint8_t *data, size_t size, const sd_msg *msg,
                               const sd_proto_error *decode_err)
{
    sd_proto_error err = {{0}, {0}};
    int rc = proto_check_rows(data, size, NULL, msg, &err, stderr);

    if (msg && msg->type == SD_MSG_TABLE_RAW)
        assert_int_equal(rc, 0);
    else if (msg) {
        assert_int_equal(rc, -1);
        assert_string_equal(err.field, "type");
    } else {
        assert_int_equal(rc, -1);
        assert_string_equal(err.field, decode_err->field);
        assert_string_equal(err.text, decode_err->text);
    }
}

static void test_mutated_bodies(void **state)
{
    (void)state;
    uint64_t seed = 0x9E3779B97F4A7C15u;
    size_t accepted = 0, rejected = 0;

    for (int type = SD_MSG_REPORT_REQUEST; type <= SD_MSG_ERROR; type++) {
        uint8_t *body;
        size_t size;
        sd_msg *sample = proto_sample((sd_msg_type)type);

        proto_encode_or_die(sample, &body, &size);
        uint8_t *mutated = malloc(size + 8);
        for (int round = 0; round < ROUNDS_PER_TYPE; round++) {
            sd_proto_error err;
            size_t mutated_size = s_mutate(body, size, mutated, &seed);
            sd_msg *msg = sd_msg_decode(mutated, mutated_size, NULL, &err);
            s_check_row_reader(mutated, mutated_size, msg, &err);
            if (msg) {
                accepted++;
                s_check_accepted(msg);
                sd_msg_destroy(&msg);
            } else {
                rejected++;
                assert_true(strlen(err.text) > 0);
            }
        }
        free(mutated);
        free(body);
        sd_msg_destroy(&sample);
    }
    print_message("%zu mutated bodies decoded, %zu rejected\n", accepted, rejected);
    assert_true(rejected > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutated_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
