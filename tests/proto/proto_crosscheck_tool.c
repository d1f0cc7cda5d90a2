/*  proto_crosscheck_tool: the C half of proto_crosscheck.py.

    proto_crosscheck_tool write DIR   writes the encoded sample of every type
                                      as DIR/<type>.msgpack, and version 1
                                      bodies without warnings as
                                      DIR/<type>.v1.msgpack
    proto_crosscheck_tool check DIR   decodes the bodies Python wrote to DIR
                                      and compares them with the samples

    Exits 0 when every body was written or matched, 1 otherwise.
*/
#include "proto_samples.h"

#include <stdlib.h>
#include <string.h>

typedef enum {
    FULL,     //  the sample as it is
    V1,       //  version 1, warnings left out
    DEFAULTS, //  optional fields left out
} variant;

typedef struct {
    sd_msg_type type;
    variant variant;
    const char *suffix;
} body_file;

static const body_file s_files[] = {
    {SD_MSG_REPORT_REQUEST, FULL, ""},
    {SD_MSG_REPORT_REPLY, FULL, ""},
    {SD_MSG_FETCH_REQUEST, FULL, ""},
    {SD_MSG_FETCH_REPLY, FULL, ""},
    {SD_MSG_TABLE_RAW, FULL, ""},
    {SD_MSG_TABLE_NORMALIZED, FULL, ""},
    {SD_MSG_AVAILABILITY_REQUEST, FULL, ""},
    {SD_MSG_AVAILABILITY_REPLY, FULL, ""},
    {SD_MSG_ERROR, FULL, ""},
    {SD_MSG_FETCH_REPLY, V1, ".v1"},
    {SD_MSG_TABLE_RAW, V1, ".v1"},
    {SD_MSG_TABLE_NORMALIZED, V1, ".v1"},
    {SD_MSG_REPORT_REQUEST, DEFAULTS, ".defaults"},
    {SD_MSG_ERROR, DEFAULTS, ".defaults"},
    {SD_MSG_TABLE_RAW, FULL, ".extra"},
};

#define FILE_COUNT (sizeof(s_files) / sizeof(s_files[0]))

static void s_replace(char **field, const char *text)
{
    free(*field);
    *field = strdup(text);
}

//  Returns the message a body of this file must hold.
static sd_msg *s_expected(const body_file *file)
{
    sd_msg *msg = proto_sample(file->type);

    if (file->variant == V1) {
        msg->version = 1;
        sd_strings_clear(proto_sample_warnings(msg));
    } else if (file->variant == DEFAULTS && file->type == SD_MSG_REPORT_REQUEST) {
        sd_strings_clear(&msg->as.report_request.recipients);
        s_replace(&msg->as.report_request.delivery_id, "");
        s_replace(&msg->as.report_request.yearly_alignment, "calendar");
        s_replace(&msg->as.report_request.subject, "");
        sd_strings_clear(&msg->as.report_request.warnings);
    } else if (file->variant == DEFAULTS && file->type == SD_MSG_ERROR) {
        s_replace(&msg->as.error.id, "");
    }
    return msg;
}

static void s_path(char *path, size_t size, const char *dir, const body_file *file)
{
    snprintf(path, size, "%s/%s%s.msgpack", dir, sd_msg_type_name(file->type), file->suffix);
}

static int s_write(const char *dir)
{
    int failures = 0;

    for (size_t i = 0; i < FILE_COUNT; i++) {
        char path[4096];
        uint8_t *data;
        size_t size;
        if (s_files[i].variant == DEFAULTS || strcmp(s_files[i].suffix, ".extra") == 0)
            continue;

        sd_msg *msg = s_expected(&s_files[i]);
        proto_encode_or_die(msg, &data, &size);
        s_path(path, sizeof(path), dir, &s_files[i]);
        FILE *out = fopen(path, "wb");
        if (!out || fwrite(data, 1, size, out) != size) {
            fprintf(stderr, "cannot write %s\n", path);
            failures++;
        }
        if (out && fclose(out) != 0)
            failures++;
        free(data);
        sd_msg_destroy(&msg);
    }
    return failures;
}

//  Reads a whole file into a new buffer. Returns NULL when it cannot.
static uint8_t *s_read(const char *path, size_t *size)
{
    FILE *in = fopen(path, "rb");
    uint8_t *data = NULL;
    long length;

    if (!in)
        return NULL;
    if (fseek(in, 0, SEEK_END) == 0 && (length = ftell(in)) > 0 && fseek(in, 0, SEEK_SET) == 0) {
        data = malloc((size_t)length);
        if (data && fread(data, 1, (size_t)length, in) != (size_t)length) {
            free(data);
            data = NULL;
        }
        *size = (size_t)length;
    }
    fclose(in);
    return data;
}

static int s_check_file(const char *dir, const body_file *file)
{
    char path[4096];
    size_t size = 0;
    sd_proto_error err;

    s_path(path, sizeof(path), dir, file);
    uint8_t *data = s_read(path, &size);
    if (!data) {
        fprintf(stderr, "%s: cannot read\n", path);
        return 1;
    }

    sd_msg *actual = sd_msg_decode(data, size, NULL, &err);
    sd_msg *expected = s_expected(file);
    int differences = 1;
    if (!actual)
        fprintf(stderr, "%s: rejected: %s: %s\n", path, err.field, err.text);
    else
        differences = proto_compare(expected, actual, stderr);
    if (differences == 0)
        printf("ok %s\n", path);
    sd_msg_destroy(&actual);
    sd_msg_destroy(&expected);
    free(data);
    return differences > 0;
}

static int s_check(const char *dir)
{
    int failures = 0;

    for (size_t i = 0; i < FILE_COUNT; i++)
        failures += s_check_file(dir, &s_files[i]);
    return failures;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "write") != 0 && strcmp(argv[1], "check") != 0)) {
        fprintf(stderr, "usage: %s write|check DIR\n", argv[0]);
        return 1;
    }
    int failures = strcmp(argv[1], "write") == 0 ? s_write(argv[2]) : s_check(argv[2]);
    return failures == 0 ? 0 : 1;
}
