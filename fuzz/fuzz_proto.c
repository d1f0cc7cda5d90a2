/*  fuzz_proto: one body through every decoder of sd_proto.

    The body is decoded with the default limits and again with tight ones
    (so that each limit check runs on small inputs), and read with
    sd_msg_peek_type, sd_msg_peek_int and sd_mdp_body_id. A body that
    decodes must encode again, and that encoding must decode and encode to
    the same bytes. The decoder dispatches on the body's "type", so one
    target covers every message type; the seeds hold a body of each.
*/
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "sd_mdp.h"
#include "sd_proto.h"

//  Encodes msg, failing the run when a message that decoded cannot be
//  encoded. Returns the body (caller frees).
static uint8_t *s_encode(const sd_msg *msg, size_t *size)
{
    uint8_t *body = NULL;
    sd_proto_error err = {0};
    if (sd_msg_encode(msg, &body, size, &err) != 0)
        fuzz_fail("decoded message does not encode: %s: %s", err.field, err.text);
    return body;
}

//  Checks that a decoded message survives encode, decode, encode unchanged.
static void s_check_round_trip(const sd_msg *msg)
{
    size_t size = 0;
    uint8_t *body = s_encode(msg, &size);
    sd_proto_error err = {0};
    sd_msg *again = sd_msg_decode(body, size, NULL, &err);
    if (!again)
        fuzz_fail("re-encoded message does not decode: %s: %s", err.field, err.text);
    if (again->type != msg->type || again->version != msg->version)
        fuzz_fail("re-encoded message changed type or version");

    size_t size_again = 0;
    uint8_t *body_again = s_encode(again, &size_again);
    if (size_again != size || memcmp(body, body_again, size) != 0)
        fuzz_fail("second encoding differs from the first (%zu and %zu bytes)", size, size_again);
    free(body_again);
    sd_msg_destroy(&again);
    free(body);
}

static void s_decode_tight(const uint8_t *data, size_t size)
{
    const sd_proto_limits tight = {
        .max_message_bytes = 2048,
        .max_string_bytes = 16,
        .max_array_items = 4,
        .max_rows = 8,
        .max_columns = 4,
    };
    sd_proto_error err = {0};
    sd_msg *msg = sd_msg_decode(data, size, &tight, &err);
    sd_msg_destroy(&msg);
}

//  Reads the body with the peek functions. decoded is true when
//  sd_msg_decode accepted the body as a message of decoded_type.
static void s_peek(const uint8_t *data, size_t size, bool decoded, sd_msg_type decoded_type)
{
    sd_msg_type type;
    int64_t deadline;
    char id[SD_MDP_ID_MAX];
    int peeked = sd_msg_peek_type(data, size, &type);
    if (peeked == 0 && !sd_msg_type_name(type))
        fuzz_fail("sd_msg_peek_type returned unknown type %d", (int)type);
    if (decoded && (peeked != 0 || type != decoded_type))
        fuzz_fail("sd_msg_peek_type disagrees with sd_msg_decode on the type");
    sd_msg_peek_int(data, size, "deadline_ms", &deadline);

    if (sd_mdp_body_id(data, size, id, sizeof id) == 0 &&
        (id[0] == '\0' || strnlen(id, sizeof id) == sizeof id))
        fuzz_fail("sd_mdp_body_id returned an empty or unterminated id");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sd_proto_error err = {0};
    sd_msg *msg = sd_msg_decode(data, size, NULL, &err);
    if (msg)
        s_check_round_trip(msg);
    else if (err.text[0] == '\0')
        fuzz_fail("sd_msg_decode failed without an error text");
    bool decoded = msg != NULL;
    sd_msg_type decoded_type = msg ? msg->type : SD_MSG_ERROR;
    sd_msg_destroy(&msg);

    s_decode_tight(data, size);
    s_peek(data, size, decoded, decoded_type);
    return 0;
}
