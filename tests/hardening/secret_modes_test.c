/*  Every kind of secret file is rejected when group or others may read it.

    One table lists the five secret files a Statsdash process reads (the GA
    service-account key, the YouTube client secret, a YouTube refresh token,
    the SMTP password and a CURVE secret key) with the function that loads
    each. For each file and each mode of MODES the loader must fail, and its
    error must name the file and tell the user to run `chmod 600`. The same
    file with mode 0600 must load, so the test cannot pass on a file that
    would be rejected for some other reason.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <czmq.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sd_curve.h"
#include "sd_mail.h"
#include "sd_oauth.h"
#include "sd_oauth_user.h"

#define ERROR_SIZE 1024

static const mode_t MODES[] = {0640, 0644, 0604};

typedef struct {
    const char *name;               //  file name inside the test folder
    //  Writes a valid file of this kind at path with mode 0600. Returns 0 or -1.
    int (*write)(const char *path);
    //  Loads path. Returns 0 when it loaded (and frees what it got), -1 with
    //  error filled otherwise.
    int (*load)(const char *path, char *error, size_t error_size);
} secret_kind;

//  -------------------------------------------------------------------------
//  Writers

static int s_write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    size_t length = strlen(text);
    int rc = write(fd, text, length) == (ssize_t)length ? 0 : -1;
    if (close(fd) != 0)
        rc = -1;
    return rc;
}

//  Returns a new RSA private key as PEM text (caller frees), or NULL.
static char *s_private_key_pem(void)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem = NULL;
    if (key && bio && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1) {
        char *data = NULL;
        long length = BIO_get_mem_data(bio, &data);
        pem = length > 0 ? strndup(data, (size_t)length) : NULL;
    }
    BIO_free(bio);
    EVP_PKEY_free(key);
    return pem;
}

static int s_write_service_account(const char *path)
{
    char *pem = s_private_key_pem();
    json_t *key = pem ? json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "service_account",
                                  "client_email", "hardening@example.iam.gserviceaccount.com",
                                  "private_key_id", "hardening", "private_key", pem,
                                  "token_uri", "http://127.0.0.1:9/token")
                      : NULL;
    char *text = key ? json_dumps(key, 0) : NULL;
    int rc = text ? s_write_text(path, text) : -1;
    free(text);
    json_decref(key);
    free(pem);
    return rc;
}

static int s_write_client_secret(const char *path)
{
    return s_write_text(path, "{\"installed\": {\"client_id\": \"hardening.apps.example\", "
                              "\"client_secret\": \"hardening-client-secret\", "
                              "\"token_uri\": \"http://127.0.0.1:9/token\"}}\n");
}

static int s_write_refresh_token(const char *path)
{
    return s_write_text(path, "1//hardening-refresh-token\n");
}

static int s_write_smtp_password(const char *path)
{
    return s_write_text(path, "hardening-smtp-password\n");
}

//  Writes a key pair as `statsdash keygen` does: the public key at
//  PATH without "_secret" and the secret key file at path.
static int s_write_curve_secret(const char *path)
{
    char public_path[PATH_MAX + 64];
    size_t length = strlen(path) - strlen("_secret");
    snprintf(public_path, sizeof public_path, "%.*s", (int)length, path);
    zcert_t *cert = zcert_new();
    int rc = cert ? zcert_save(cert, public_path) : -1;
    zcert_destroy(&cert);
    if (rc == 0)
        rc = chmod(path, 0600);
    return rc;
}

//  -------------------------------------------------------------------------
//  Loaders

static int s_load_service_account(const char *path, char *error, size_t error_size)
{
    sd_service_account *account = sd_service_account_load(path, error, error_size);
    int rc = account ? 0 : -1;
    sd_service_account_destroy(&account);
    return rc;
}

static int s_load_client_secret(const char *path, char *error, size_t error_size)
{
    sd_oauth_client *client = sd_oauth_client_load(path, error, error_size);
    int rc = client ? 0 : -1;
    sd_oauth_client_destroy(&client);
    return rc;
}

static int s_load_refresh_token(const char *path, char *error, size_t error_size)
{
    char *token = sd_oauth_refresh_token_read(path, error, error_size);
    int rc = token ? 0 : -1;
    sd_oauth_secret_free(token);
    return rc;
}

static int s_load_smtp_password(const char *path, char *error, size_t error_size)
{
    char *password = sd_mail_read_password(path, error, error_size);
    int rc = password ? 0 : -1;
    free(password);
    return rc;
}

static int s_load_curve_secret(const char *path, char *error, size_t error_size)
{
    zcert_t *cert = sd_curve_load_pair(NULL, path, error, error_size);
    int rc = cert ? 0 : -1;
    zcert_destroy(&cert);
    return rc;
}

static const secret_kind KINDS[] = {
    {"service-account.json", s_write_service_account, s_load_service_account},
    {"client_secret.json", s_write_client_secret, s_load_client_secret},
    {"channel.token", s_write_refresh_token, s_load_refresh_token},
    {"smtp.password", s_write_smtp_password, s_load_smtp_password},
    {"broker_secret", s_write_curve_secret, s_load_curve_secret},
};

//  -------------------------------------------------------------------------
//  Tests

typedef struct {
    char folder[PATH_MAX];
} fixture;

static int s_setup(void **state)
{
    fixture *self = calloc(1, sizeof *self);
    if (!self)
        return -1;
    snprintf(self->folder, sizeof self->folder, "/tmp/statsdash-hardening-XXXXXX");
    if (!mkdtemp(self->folder)) {
        free(self);
        return -1;
    }
    *state = self;
    return 0;
}

static int s_teardown(void **state)
{
    fixture *self = *state;
    char command[PATH_MAX + 16];
    snprintf(command, sizeof command, "rm -rf '%s'", self->folder);
    int rc = system(command) == 0 ? 0 : -1;
    free(self);
    return rc;
}

//  Checks one kind of secret file: rejected with every mode of MODES,
//  loaded with 0600.
static void s_check_kind(const fixture *self, const secret_kind *kind)
{
    char path[PATH_MAX + 64];
    char error[ERROR_SIZE];
    snprintf(path, sizeof path, "%s/%s", self->folder, kind->name);
    assert_int_equal(kind->write(path), 0);

    for (size_t i = 0; i < sizeof MODES / sizeof MODES[0]; i++) {
        assert_int_equal(chmod(path, MODES[i]), 0);
        error[0] = '\0';
        int rc = kind->load(path, error, sizeof error);
        print_message("%s mode %04o: %s\n", kind->name, (unsigned)MODES[i], error);
        assert_int_equal(rc, -1);
        assert_non_null(strstr(error, path));
        assert_non_null(strstr(error, "chmod 600"));
    }

    assert_int_equal(chmod(path, 0600), 0);
    error[0] = '\0';
    int rc = kind->load(path, error, sizeof error);
    if (rc != 0)
        print_message("%s mode 0600 was rejected: %s\n", kind->name, error);
    assert_int_equal(rc, 0);
}

static void test_service_account_key(void **state)
{
    s_check_kind(*state, &KINDS[0]);
}

static void test_client_secret(void **state)
{
    s_check_kind(*state, &KINDS[1]);
}

static void test_refresh_token(void **state)
{
    s_check_kind(*state, &KINDS[2]);
}

static void test_smtp_password(void **state)
{
    s_check_kind(*state, &KINDS[3]);
}

static void test_curve_secret_key(void **state)
{
    s_check_kind(*state, &KINDS[4]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_service_account_key, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_client_secret, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_refresh_token, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_smtp_password, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_curve_secret_key, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
