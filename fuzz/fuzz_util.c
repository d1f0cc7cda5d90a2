/*  fuzz_util: helpers shared by the fuzz targets.  */
#include "fuzz_util.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sd_log.h"

static char s_scratch_path[64];

char *fuzz_text(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        fuzz_fail("out of memory copying %zu input bytes", size);
    if (size > 0)
        memcpy(text, data, size);
    text[size] = '\0';
    return text;
}

static void s_remove_scratch(void)
{
    if (s_scratch_path[0])
        unlink(s_scratch_path);
}

//  Creates the scratch file on first use; mkstemp makes it mode 0600.
static void s_create_scratch(void)
{
    snprintf(s_scratch_path, sizeof s_scratch_path, "/tmp/statsdash-fuzz-XXXXXX");
    int fd = mkstemp(s_scratch_path);
    if (fd < 0)
        fuzz_fail("cannot create a scratch file in /tmp");
    close(fd);
    atexit(s_remove_scratch);
}

const char *fuzz_scratch_file(const uint8_t *data, size_t size)
{
    if (!s_scratch_path[0])
        s_create_scratch();
    FILE *file = fopen(s_scratch_path, "wb");
    if (!file)
        fuzz_fail("cannot open scratch file %s", s_scratch_path);
    bool written = size == 0 || fwrite(data, 1, size, file) == size;
    if (fclose(file) != 0 || !written)
        fuzz_fail("cannot write scratch file %s", s_scratch_path);
    return s_scratch_path;
}

void fuzz_quiet_logs(void)
{
    static bool quiet = false;
    if (!quiet)
        sd_log_open("fuzz", SD_LOG_ERROR, false);
    quiet = true;
}

uint8_t fuzz_input_byte(fuzz_input *input)
{
    return input->position < input->size ? input->data[input->position++] : 0;
}

bool fuzz_input_done(const fuzz_input *input)
{
    return input->position >= input->size;
}

zmsg_t *fuzz_input_message(fuzz_input *input)
{
    zmsg_t *msg = zmsg_new();
    if (!msg)
        fuzz_fail("out of memory");
    size_t frames = fuzz_input_byte(input) % 8;
    for (size_t i = 0; i < (frames ? frames : 1); i++) {
        size_t length = fuzz_input_byte(input);
        if (length >= 0xF0)
            length = (length & 0x0F) << 8 | fuzz_input_byte(input);
        size_t left = input->size - input->position;
        if (length > left)
            length = left;
        if (zmsg_addmem(msg, input->data + input->position, length) != 0)
            fuzz_fail("out of memory");
        input->position += length;
    }
    return msg;
}

//  Returns the size of the msgpack value header at data[0] plus the payload
//  that follows it (not counting container items), or 0 for the unused
//  byte 0xC1 and for headers cut short. Sets *items to the items a
//  container header declares (maps count keys and values), else 0.
static size_t s_msgpack_token(const uint8_t *data, size_t size, uint64_t *items)
{
    static const uint8_t widths[] = {1, 2, 4, 8};
    uint8_t b = data[0];
    uint64_t n = 0;
    size_t head = 1;
    size_t payload = 0;
    *items = 0;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return 1;
    if (b <= 0x8f)
        *items = 2 * (uint64_t)(b & 0x0f);
    else if (b <= 0x9f)
        *items = b & 0x0f;
    else if (b <= 0xbf)
        payload = b & 0x1f;
    else if (b == 0xc1)
        return 0;
    else if (b == 0xca)
        payload = 4;
    else if (b == 0xcb)
        payload = 8;
    else if (b >= 0xcc && b <= 0xd3)
        payload = widths[(b - 0xcc) % 4];
    else if (b >= 0xd4 && b <= 0xd8)
        payload = 1 + ((size_t)1 << (b - 0xd4));
    else {
        //  A length or count of 1, 2 or 4 bytes: bin, ext, str, array, map.
        size_t width = b == 0xc4 || b == 0xc7 || b == 0xd9                             ? 1
                       : b == 0xc5 || b == 0xc8 || b == 0xda || b == 0xdc || b == 0xde ? 2
                                                                                       : 4;
        if (size < 1 + width)
            return 0;
        for (size_t i = 0; i < width; i++)
            n = n << 8 | data[1 + i];
        head = 1 + width + (b >= 0xc7 && b <= 0xc9 ? 1 : 0);
        if (b >= 0xdc)
            *items = b >= 0xde ? 2 * n : n;
        else
            payload = (size_t)n;
    }
    if (head > size || payload > size - head)
        return 0;
    return head + payload;
}

bool fuzz_msgpack_counts_fit(const uint8_t *data, size_t size)
{
    size_t position = 0;
    while (position < size) {
        uint64_t items;
        size_t length = s_msgpack_token(data + position, size - position, &items);
        if (length == 0)
            return true;
        position += length;
        if (items > size - position)
            return false;
    }
    return true;
}

void fuzz_defuse_msgpack_counts(zmsg_t *msg)
{
    for (zframe_t *frame = zmsg_first(msg); frame; frame = zmsg_next(msg)) {
        if (!fuzz_msgpack_counts_fit(zframe_data(frame), zframe_size(frame)))
            zframe_data(frame)[0] = 0xc1;
    }
}

void fuzz_zsys_init(void)
{
    static bool started = false;
    if (started)
        return;
    zsys_handler_set(NULL);
    zsys_set_max_sockets(0);
    zsys_init();
    started = true;
}

//  Returns the number of open file descriptors, or 0 when unknown.
static size_t s_open_descriptors(void)
{
    DIR *dir = opendir("/proc/self/fd");
    size_t count = 0;
    if (!dir)
        return 0;
    while (readdir(dir))
        count++;
    closedir(dir);
    return count;
}

void fuzz_zsys_settle(void)
{
    for (int waited_ms = 0; waited_ms < 5000; waited_ms++) {
        if (s_open_descriptors() < FUZZ_SETTLE_DESCRIPTORS)
            return;
        zclock_sleep(1);
    }
}

void fuzz_fail(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fprintf(stderr, "fuzz check failed: ");
    vfprintf(stderr, format, args);
    fprintf(stderr, "\n");
    va_end(args);
    abort();
}
