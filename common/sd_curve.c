/*  sd_curve: CURVE key files and the socket options that use them.  */
#include "sd_curve.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  A key file is a few hundred bytes; anything past this is not one.
#define SD_CURVE_FILE_MAX 65536
//  Length of a 32-byte key in Z85 text.
#define SD_CURVE_KEY_TEXT 40

//  Rejects a key file that is not a regular file, and a secret key file
//  that group or others can access.
static int s_check_file(int fd, const char *path, bool secret, char *err, size_t err_size)
{
    struct stat info;
    if (fstat(fd, &info) != 0) {
        snprintf(err, err_size, "cannot read key file %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(info.st_mode)) {
        snprintf(err, err_size, "key file %s is not a regular file", path);
        return -1;
    }
    if (secret && (info.st_mode & (S_IRWXG | S_IRWXO))) {
        snprintf(err, err_size,
                 "secret key file %s has mode %04o, which gives group or others access; "
                 "run chmod 600 %s",
                 path, (unsigned)(info.st_mode & 07777), path);
        return -1;
    }
    return 0;
}

//  Reads the whole open file into a new NUL-terminated string.
static char *s_read_all(int fd, const char *path, char *err, size_t err_size)
{
    char *text = malloc(SD_CURVE_FILE_MAX + 1);
    size_t length = 0;
    while (text && length <= SD_CURVE_FILE_MAX) {
        ssize_t got = read(fd, text + length, SD_CURVE_FILE_MAX + 1 - length);
        if (got == 0)
            break;
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(err, err_size, "cannot read key file %s: %s", path, strerror(errno));
            free(text);
            return NULL;
        }
        length += (size_t)got;
    }
    if (!text)
        snprintf(err, err_size, "out of memory reading key file %s", path);
    else if (length > SD_CURVE_FILE_MAX) {
        snprintf(err, err_size, "key file %s is larger than %d bytes, so it is not a key file",
                 path, SD_CURVE_FILE_MAX);
        free(text);
        return NULL;
    } else
        text[length] = '\0';
    return text;
}

//  Opens, checks and reads a key file. Returns a new string or NULL.
static char *s_load_text(const char *path, bool secret, char *err, size_t err_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, err_size, "cannot open key file %s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    if (s_check_file(fd, path, secret, err, err_size) == 0)
        text = s_read_all(fd, path, err, err_size);
    close(fd);
    return text;
}

static void s_free_text(char **text)
{
    if (*text) {
        explicit_bzero(*text, strlen(*text));
        free(*text);
        *text = NULL;
    }
}

//  Returns true when the line (length bytes, no newline) is the section
//  header "curve", trailing blanks and comment allowed.
static bool s_is_curve_header(const char *line, size_t length)
{
    if (length < 5 || strncmp(line, "curve", 5) != 0)
        return false;
    size_t rest = 5 + strspn(line + 5, " \t\r");
    return rest >= length || line[rest] == '#';
}

//  Parses `  name = "value"` (quotes optional) in one line. Copies a value of
//  exactly 40 characters into value and returns 0, else returns -1.
static int s_parse_entry(const char *line, size_t length, const char *name, char *value)
{
    const char *end = line + length;
    line += strspn(line, " \t");
    size_t name_length = strlen(name);
    if ((size_t)(end - line) < name_length || strncmp(line, name, name_length) != 0)
        return -1;
    line += name_length;
    line += strspn(line, " \t");
    if (line >= end || *line != '=')
        return -1;
    line++;
    line += strspn(line, " \t");
    char quote = line < end && (*line == '"' || *line == '\'') ? *line++ : 0;
    const char *stop = line;
    while (stop < end && (quote ? *stop != quote : !strchr(" \t\r#", *stop)))
        stop++;
    if ((quote && stop == end) || stop - line != SD_CURVE_KEY_TEXT)
        return -1;
    memcpy(value, line, SD_CURVE_KEY_TEXT);
    value[SD_CURVE_KEY_TEXT] = '\0';
    return 0;
}

//  Decodes the Z85 key `name` of the curve section of a ZPL text into key.
//  Returns 0, or -1 when it is missing or is not 40 characters of Z85. The
//  parser is ours and not zconfig's because zconfig prints any line it
//  cannot parse, and in a secret key file that line may hold the key.
static int s_decode_key(const char *text, const char *name, byte key[32])
{
    char value[SD_CURVE_KEY_TEXT + 1];
    bool in_curve = false;
    int rc = -1;
    while (*text && rc != 0) {
        size_t length = strcspn(text, "\n");
        if (length > 0 && !strchr(" \t#\r", text[0]))
            in_curve = s_is_curve_header(text, length);
        else if (in_curve && s_parse_entry(text, length, name, value) == 0)
            rc = zmq_z85_decode(key, value) ? 0 : -1;
        text += length + (text[length] == '\n');
    }
    explicit_bzero(value, sizeof value);
    return rc;
}

static bool s_has_secret(zcert_t *cert)
{
    const byte *secret = zcert_secret_key(cert);
    for (int i = 0; i < 32; i++)
        if (secret[i])
            return true;
    return false;
}

zcert_t *sd_curve_load_public(const char *path, char *err, size_t err_size)
{
    char *text = s_load_text(path, false, err, err_size);
    if (!text)
        return NULL;

    byte public_key[32];
    byte no_secret[32] = {0};
    zcert_t *cert = NULL;
    if (s_decode_key(text, "public-key", public_key) == 0)
        cert = zcert_new_from(public_key, no_secret);
    else
        snprintf(err, err_size, "key file %s has no valid public-key entry in its curve section", path);
    s_free_text(&text);
    return cert;
}

//  Loads both keys from the secret key file.
static zcert_t *s_load_secret(const char *path, char *err, size_t err_size)
{
    char *text = s_load_text(path, true, err, err_size);
    if (!text)
        return NULL;

    byte public_key[32];
    byte secret_key[32];
    zcert_t *cert = NULL;
    if (s_decode_key(text, "public-key", public_key) != 0)
        snprintf(err, err_size, "key file %s has no valid public-key entry in its curve section", path);
    else if (s_decode_key(text, "secret-key", secret_key) != 0)
        snprintf(err, err_size,
                 "key file %s has no valid secret-key entry in its curve section; secret_key_file must name "
                 "the NAME_secret file that statsdash keygen wrote",
                 path);
    else
        cert = zcert_new_from(public_key, secret_key);
    explicit_bzero(secret_key, sizeof secret_key);
    s_free_text(&text);
    return cert;
}

zcert_t *sd_curve_load_pair(const char *public_path, const char *secret_path, char *err,
                            size_t err_size)
{
    zcert_t *cert = s_load_secret(secret_path, err, err_size);
    if (!cert || !public_path)
        return cert;

    zcert_t *public_cert = sd_curve_load_public(public_path, err, err_size);
    if (public_cert
        && memcmp(zcert_public_key(public_cert), zcert_public_key(cert), 32) == 0) {
        zcert_destroy(&public_cert);
        return cert;
    }
    if (public_cert)
        snprintf(err, err_size,
                 "public key file %s does not match secret key file %s; name the two files "
                 "that one statsdash keygen run wrote",
                 public_path, secret_path);
    zcert_destroy(&public_cert);
    zcert_destroy(&cert);
    return NULL;
}

int sd_curve_apply_server(zsock_t *socket, zcert_t *cert)
{
    assert(socket);
    assert(cert);
    if (!zsys_has_curve() || !s_has_secret(cert))
        return -1;
    zcert_apply(cert, socket);
    zsock_set_curve_server(socket, 1);
    return 0;
}

int sd_curve_apply_client(zsock_t *socket, zcert_t *cert, zcert_t *server)
{
    assert(socket);
    assert(cert);
    assert(server);
    if (!zsys_has_curve() || !s_has_secret(cert))
        return -1;
    zcert_apply(cert, socket);
    zsock_set_curve_serverkey_bin(socket, zcert_public_key(server));
    return 0;
}
