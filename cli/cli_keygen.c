/*  cli_keygen: `statsdash keygen [--force] DIR/NAME` writes a new CURVE key
    pair in the ZPL format of CZMQ's zcert: DIR/NAME contains the public key
    (mode 0644) and DIR/NAME_secret contains both keys (mode 0600).

    Each file is first written to a temporary file in DIR, which mkstemp
    creates with mode 0600, so the secret key is never in a file that group
    or others can read. The temporary file is then linked to its name, which
    fails if the name exists, or renamed over it with --force.
*/
#include "cli.h"

#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char s_usage[] =
    "Usage: statsdash keygen [--force] DIR/NAME\n"
    "\n"
    "Writes a new CURVE key pair: DIR/NAME with the public key (mode 0644) and\n"
    "DIR/NAME_secret with the secret key (mode 0600). DIR must exist. Copy only\n"
    "the public key file to other hosts; name the files in broker.curve of the\n"
    "configuration (public_key_file, secret_key_file, server_public_key_file,\n"
    "allowed_keys). Run it as the user the services run as (statsdash), so that\n"
    "they can read the secret key file.\n"
    "\n"
    "Options:\n"
    "  -f, --force   replace existing key files\n"
    "  -h, --help    print this help and exit\n"
    "\n"
    "Exit status: 0 written, 1 error, 2 usage error.\n";

//  Reads the options into *path and *force. Returns -1 to go on, else the
//  exit status.
static int s_parse_options(int argc, char **argv, const char **path, bool *force)
{
    static const struct option options[] = {
        {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int option;
    optind = 1;
    opterr = 0;
    while ((option = getopt_long(argc, argv, ":fh", options, NULL)) != -1) {
        if (option == 'f')
            *force = true;
        else if (option == 'h') {
            fputs(s_usage, stdout);
            return 0;
        } else {
            sd_cli_bad_option("keygen", option, argv);
            return 2;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "statsdash keygen: expected one argument DIR/NAME, "
                        "e.g. statsdash keygen /etc/statsdash/keys/broker\n");
        return 2;
    }
    *path = argv[optind];
    size_t length = strlen(*path);
    if (length == 0 || (*path)[length - 1] == '/') {
        fprintf(stderr, "statsdash keygen: \"%s\" has no file name; give DIR/NAME\n", *path);
        return 2;
    }
    return -1;
}

//  Returns a new ZPL text with the public key, and the secret key too when
//  secret is true. The caller frees it (after explicit_bzero for a secret).
static char *s_key_text(zcert_t *cert, bool secret)
{
    zconfig_t *root = zconfig_new("root", NULL);
    if (!root)
        return NULL;
    zconfig_set_comment(root, secret ? "   CURVE secret key written by statsdash keygen. "
                                       "Keep it on this host with mode 0600."
                                     : "   CURVE public key written by statsdash keygen.");
    zconfig_put(root, "/curve/public-key", zcert_public_txt(cert));
    if (secret)
        zconfig_put(root, "/curve/secret-key", zcert_secret_txt(cert));
    char *text = zconfig_str_save(root);
    zconfig_destroy(&root);
    return text;
}

static int s_write_all(int fd, const char *text)
{
    size_t length = strlen(text);
    while (length > 0) {
        ssize_t written = write(fd, text, length);
        if (written < 0 && errno == EINTR)
            continue;
        if (written < 0)
            return -1;
        text += written;
        length -= (size_t)written;
    }
    return fsync(fd);
}

//  Writes text to a new temporary file next to path, with the given mode.
//  Stores its name in temp (PATH_MAX bytes). Returns 0, or -1 after
//  printing the error.
static int s_write_temp(const char *path, const char *text, mode_t mode, char *temp)
{
    snprintf(temp, PATH_MAX, "%s.XXXXXX", path);
    int fd = mkstemp(temp);
    if (fd < 0) {
        int saved = errno;
        fprintf(stderr, "statsdash keygen: cannot create %s: %s%s\n", path, strerror(saved),
                saved == ENOENT ? "; create its directory first" : "");
        return -1;
    }
    int rc = fchmod(fd, mode) == 0 && s_write_all(fd, text) == 0 ? 0 : -1;
    if (rc != 0)
        fprintf(stderr, "statsdash keygen: cannot write %s: %s\n", temp, strerror(errno));
    if (close(fd) != 0 && rc == 0) {
        fprintf(stderr, "statsdash keygen: cannot write %s: %s\n", temp, strerror(errno));
        rc = -1;
    }
    if (rc != 0)
        unlink(temp);
    return rc;
}

//  Gives the temporary file its final name. Returns 0, or -1 after printing
//  the error; the temporary file is gone either way.
static int s_install(const char *temp, const char *path, bool force)
{
    int rc = force ? rename(temp, path) : link(temp, path);
    int saved = errno;
    if (!force || rc != 0)
        unlink(temp);
    if (rc == 0)
        return 0;
    if (saved == EEXIST)
        fprintf(stderr, "statsdash keygen: %s already exists; use --force to replace it\n", path);
    else
        fprintf(stderr, "statsdash keygen: cannot create %s: %s\n", path, strerror(saved));
    return -1;
}

//  Rejects a name whose public or secret file exists, before anything is
//  written, so that no half pair is left.
static int s_check_free(const char *path)
{
    struct stat info;
    if (lstat(path, &info) == 0) {
        fprintf(stderr, "statsdash keygen: %s already exists; use --force to replace it\n", path);
        return -1;
    }
    return 0;
}

//  Writes both files of cert. Returns 0, or -1 after printing the error.
static int s_save(zcert_t *cert, const char *public_path, const char *secret_path, bool force)
{
    char *public_text = s_key_text(cert, false);
    char *secret_text = s_key_text(cert, true);
    char public_temp[PATH_MAX] = "";
    char secret_temp[PATH_MAX] = "";
    int rc = -1;

    if (!public_text || !secret_text)
        fprintf(stderr, "statsdash keygen: out of memory\n");
    else if (s_write_temp(secret_path, secret_text, 0600, secret_temp) == 0) {
        if (s_write_temp(public_path, public_text, 0644, public_temp) != 0)
            unlink(secret_temp);
        else if (s_install(secret_temp, secret_path, force) != 0)
            unlink(public_temp);
        else if (s_install(public_temp, public_path, force) != 0) {
            if (!force)
                unlink(secret_path);
        } else
            rc = 0;
    }
    if (secret_text)
        explicit_bzero(secret_text, strlen(secret_text));
    free(secret_text);
    free(public_text);
    return rc;
}

int sd_cli_keygen(int argc, char **argv)
{
    const char *public_path = NULL;
    bool force = false;
    int status = s_parse_options(argc, argv, &public_path, &force);
    if (status >= 0)
        return status;

    char secret_path[PATH_MAX];
    if (strlen(public_path) + strlen("_secret.XXXXXX") >= sizeof secret_path) {
        fprintf(stderr, "statsdash keygen: path \"%s\" is too long\n", public_path);
        return 1;
    }
    snprintf(secret_path, sizeof secret_path, "%s_secret", public_path);
    if (!force && (s_check_free(public_path) != 0 || s_check_free(secret_path) != 0))
        return 1;
    if (!zsys_has_curve()) {
        fprintf(stderr, "statsdash keygen: this libzmq was built without CURVE support; "
                        "install one built with libsodium (Debian's libzmq5 is)\n");
        return 1;
    }

    zcert_t *cert = zcert_new();
    if (!cert || s_save(cert, public_path, secret_path, force) != 0) {
        zcert_destroy(&cert);
        return 1;
    }
    printf("public key: %s\n", zcert_public_txt(cert));
    printf("public key file: %s\n", public_path);
    printf("secret key file: %s (mode 0600; keep it on this host)\n", secret_path);
    zcert_destroy(&cert);
    return 0;
}
