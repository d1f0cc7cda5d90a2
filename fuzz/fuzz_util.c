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
