/*  ga_test_util: loop, folder and key helpers for the worker-ga tests.  */
#include "ga_test_util.h"

#include <jansson.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    ga_test_done_fn *done;
    void *arg;
    bool timed_out;
} s_wait;

static int s_check(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_wait *wait = arg;
    return wait->done(wait->arg) ? -1 : 0;
}

static int s_timeout(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_wait *wait = arg;
    wait->timed_out = true;
    return -1;
}

int ga_test_run_until(zloop_t *loop, ga_test_done_fn *done, void *arg, int timeout_ms)
{
    s_wait wait = {.done = done, .arg = arg};
    if (done(arg))
        return 0;
    int check = zloop_timer(loop, 5, 0, s_check, &wait);
    int timeout = zloop_timer(loop, (size_t)timeout_ms, 1, s_timeout, &wait);
    zloop_start(loop);
    zloop_timer_end(loop, check);
    zloop_timer_end(loop, timeout);
    return done(arg) ? 0 : -1;
}

char *ga_test_temp_dir(void)
{
    char template[] = "/tmp/statsdash-ga-test-XXXXXX";
    if (!mkdtemp(template))
        return NULL;
    return strdup(template);
}

void ga_test_remove_dir(const char *path)
{
    if (!path || strncmp(path, "/tmp/statsdash-ga-test-", 23) != 0)
        return;
    char *command = zsys_sprintf("rm -rf '%s'", path);
    if (command && system(command) != 0)
        fprintf(stderr, "cannot remove %s\n", path);
    zstr_free(&command);
}

EVP_PKEY *ga_test_rsa_key(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
}

//  Returns the key as PKCS#8 PEM text (caller frees), or NULL.
static char *s_private_pem(EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *text = NULL;
    if (bio && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1) {
        char *data = NULL;
        long size = BIO_get_mem_data(bio, &data);
        text = size > 0 ? strndup(data, (size_t)size) : NULL;
    }
    BIO_free(bio);
    return text;
}

int ga_test_write_key_file(const char *path, EVP_PKEY *key, const char *token_uri, int mode)
{
    char *pem = s_private_pem(key);
    json_t *root = pem ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "service_account",
                                   "project_id", "statsdash-test", "private_key_id",
                                   "0123456789abcdef", "private_key", pem, "client_email",
                                   "reporter@statsdash-test.iam.gserviceaccount.com",
                                   "client_id", "100000000000000000001")
                       : NULL;
    int rc = -1;
    if (root && token_uri)
        json_object_set_new(root, "token_uri", json_string(token_uri));
    if (root && json_dump_file(root, path, JSON_INDENT(2)) == 0 && chmod(path, (mode_t)mode) == 0)
        rc = 0;
    json_decref(root);
    free(pem);
    return rc;
}
