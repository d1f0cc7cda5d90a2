/*  fuzz_yt_data: the YouTube worker's parsers of channels.list and
    videos.list bodies, of the subscriber change table and of Google error
    bodies (worker-youtube/sd_yt_data.c).

    The first input byte picks the parser (its value modulo 4: channels,
    videos, change, error) and, with bit 2, whether the body first goes
    through sd_utf8_repair_json, as the worker does with every response.
    The rest is the body, passed in a buffer of exactly its size. An
    accepted body must give items whose ids and titles are valid UTF-8
    without NUL bytes, no more items than the body could hold, and counts
    of at least 0. A rejected body must come with an error text and no
    items. The error text must be "HTTP STATUS" with at most 400 bytes of
    message after it.
*/
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "sd_utf8_repair.h"
#include "sd_yt_data.h"

//  Returns the length of the UTF-8 sequence at text (1 to 4), or 0 when
//  it is not a valid, shortest-form scalar value.
static size_t s_sequence_length(const unsigned char *text, size_t left)
{
    unsigned char lead = text[0];
    size_t length = 0;
    if (lead < 0x80)
        length = 1;
    else if (lead >= 0xC2 && lead <= 0xDF)
        length = 2;
    else if (lead >= 0xE0 && lead <= 0xEF)
        length = 3;
    else if (lead >= 0xF0 && lead <= 0xF4)
        length = 4;
    if (length == 0 || length > left)
        return 0;
    for (size_t i = 1; i < length; i++) {
        if ((text[i] & 0xC0) != 0x80)
            return 0;
    }
    //  The second byte's range rules out overlong forms, surrogates and
    //  values above U+10FFFF.
    if ((lead == 0xE0 && text[1] < 0xA0) || (lead == 0xED && text[1] > 0x9F)
        || (lead == 0xF0 && text[1] < 0x90) || (lead == 0xF4 && text[1] > 0x8F))
        return 0;
    return length;
}

static void s_check_text(const char *text, const char *what)
{
    if (!text)
        fuzz_fail("%s is NULL", what);
    size_t length = strlen(text);
    for (size_t i = 0; i < length;) {
        size_t step = s_sequence_length((const unsigned char *)text + i, length - i);
        if (step == 0)
            fuzz_fail("%s has invalid UTF-8 at byte %zu", what, i);
        i += step;
    }
}

//  Checks the outcome that every parser shares: a rejected body comes with
//  an error text and no items.
static void s_check_outcome(int rc, const void *items, size_t count, const char *error,
                            size_t body_size)
{
    if (rc != 0 && rc != -1)
        fuzz_fail("parser returned %d", rc);
    if (rc != 0 && error[0] == '\0')
        fuzz_fail("rejected body without an error text");
    if (rc != 0 && (items || count != 0))
        fuzz_fail("rejected body returned %zu items", count);
    if ((items == NULL) != (count == 0))
        fuzz_fail("%zu items with items %s", count, items ? "set" : "NULL");
    //  An item takes more than 8 bytes of JSON: {"id":"","snippet":...}.
    if (count > body_size / 8)
        fuzz_fail("%zu items from a %zu-byte body", count, body_size);
}

static void s_channels(const char *body, size_t size)
{
    sd_yt_channel_count *items = NULL;
    size_t count = 0;
    char error[256] = "";
    int rc = sd_yt_data_channels(body, size, &items, &count, error, sizeof error);
    s_check_outcome(rc, items, count, error, size);
    for (size_t i = 0; i < count; i++) {
        s_check_text(items[i].id, "channel id");
        if (items[i].subscribers < 0)
            fuzz_fail("negative subscriber count %lld", (long long)items[i].subscribers);
    }
    sd_yt_channel_counts_free(&items, count);
}

static void s_videos(const char *body, size_t size)
{
    sd_yt_video_title *items = NULL;
    size_t count = 0;
    char error[256] = "";
    int rc = sd_yt_data_videos(body, size, &items, &count, error, sizeof error);
    s_check_outcome(rc, items, count, error, size);
    for (size_t i = 0; i < count; i++) {
        s_check_text(items[i].id, "video id");
        s_check_text(items[i].title, "video title");
    }
    sd_yt_video_titles_free(&items, count);
}

static void s_change(const char *body, size_t size)
{
    int64_t change = 12345;
    char error[256] = "";
    int rc = sd_yt_data_change(body, size, &change, error, sizeof error);
    s_check_outcome(rc, NULL, 0, error, size);
    if (rc != 0 && change != 0)
        fuzz_fail("rejected body set the change to %lld", (long long)change);
}

static void s_error(const char *body, size_t size, long status)
{
    char text[512];
    memset(text, 'x', sizeof text);
    const char *result = sd_yt_data_error(status, body, size, text, sizeof text);
    if (result != text || !memchr(text, '\0', sizeof text))
        fuzz_fail("error text is not NUL-terminated in its buffer");
    char prefix[32];
    int length = snprintf(prefix, sizeof prefix, "HTTP %ld", status);
    if (strncmp(text, prefix, (size_t)length) != 0)
        fuzz_fail("error text \"%.40s\" does not start with \"%s\"", text, prefix);
    if (text[length] != '\0' && strncmp(text + length, ": ", 2) != 0)
        fuzz_fail("error text \"%.60s\" has no \": \" before the message", text);
    if (strlen(text) > (size_t)length + 2 + 400)
        fuzz_fail("error message is longer than 400 bytes");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t shape = data[0];
    size_t body_size = size - 1;
    char *body = malloc(body_size ? body_size : 1);
    if (!body)
        fuzz_fail("out of memory");
    memcpy(body, data + 1, body_size);

    char *repaired = NULL;
    size_t repaired_size = 0;
    if (shape & 4) {
        int replaced = sd_utf8_repair_json(body, body_size, &repaired, &repaired_size);
        if (replaced < 0)
            fuzz_fail("sd_utf8_repair_json failed");
    }
    const char *input = repaired ? repaired : body;
    size_t input_size = repaired ? repaired_size : body_size;
    switch (shape % 4) {
    case 0: s_channels(input, input_size); break;
    case 1: s_videos(input, input_size); break;
    case 2: s_change(input, input_size); break;
    default: s_error(input, input_size, 400 + (long)(shape >> 3)); break;
    }
    free(repaired);
    free(body);
    return 0;
}
