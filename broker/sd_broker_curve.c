/*  sd_broker_curve: CURVE server keys of the broker sockets and the zauth
    ZAP handler that accepts only the configured public keys.

    zauth reads allowed client keys from a folder of public certificate
    files, so each file of broker.curve.allowed_keys is loaded (with
    sd_curve, which checks it) and written as a public certificate into a
    private folder made with mkdtemp. The folder stays while the broker
    runs because zauth's certificate store rereads it when it changes.  */
#include "sd_broker_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sd_curve.h"
#include "sd_log.h"

//  Creates the private folder for allowed keys under $TMPDIR or /tmp.
static char *s_make_folder(void)
{
    const char *base = getenv("TMPDIR");
    char *path = zsys_sprintf("%s/statsdash-broker-keys-XXXXXX", base && *base ? base : "/tmp");
    if (path && !mkdtemp(path)) {
        sd_error("cannot create a folder for the allowed CURVE keys: %s path=%s", strerror(errno),
                 path);
        zstr_free(&path);
    }
    return path;
}

//  Copies each allowed public key into the folder. Returns 0 or -1.
static int s_copy_allowed_keys(sd_broker *self, const sd_config_strings *files)
{
    for (size_t i = 0; i < files->count; i++) {
        char err[512];
        zcert_t *cert = sd_curve_load_public(files->items[i], err, sizeof err);
        if (!cert) {
            sd_error("broker.curve.allowed_keys[%zu]: %s", i, err);
            return -1;
        }
        char *path = zsys_sprintf("%s/allowed-%zu.key", self->allowed_dir, i);
        int rc = path ? zcert_save_public(cert, path) : -1;
        zcert_destroy(&cert);
        if (rc != 0) {
            sd_error("cannot write allowed CURVE key: %s path=%s", strerror(errno),
                     path ? path : "?");
            zstr_free(&path);
            return -1;
        }
        zstr_free(&path);
    }
    return 0;
}

int sd_broker_curve_start(sd_broker *self, const sd_config_broker *config)
{
    char err[512];
    const sd_config_curve *curve = &config->curve;
    self->curve_cert =
        sd_curve_load_pair(curve->public_key_file, curve->secret_key_file, err, sizeof err);
    if (!self->curve_cert) {
        sd_error("broker.curve: %s", err);
        return -1;
    }
    if (curve->allowed_keys.count == 0)
        sd_warning("broker.curve.allowed_keys is empty: no client or worker can connect");
    self->allowed_dir = s_make_folder();
    if (!self->allowed_dir || s_copy_allowed_keys(self, &curve->allowed_keys) != 0)
        return -1;

    //  zauth binds the context's one ZAP endpoint, so only one CURVE
    //  broker may run per process at a time.
    self->auth = zactor_new(zauth, NULL);
    if (!self->auth || zstr_sendx(self->auth, "CURVE", self->allowed_dir, NULL) != 0 ||
        zsock_wait(self->auth) != 0) {
        sd_error("cannot start the CURVE authenticator (zauth)");
        return -1;
    }
    sd_info("CURVE on: accepting %zu public keys", curve->allowed_keys.count);
    return 0;
}

int sd_broker_curve_apply(sd_broker *self, zsock_t *socket)
{
    if (!self->curve_cert)
        return 0;
    return sd_curve_apply_server(socket, self->curve_cert);
}

void sd_broker_curve_stop(sd_broker *self)
{
    zactor_destroy(&self->auth);
    zcert_destroy(&self->curve_cert);
    if (!self->allowed_dir)
        return;
    zdir_t *folder = zdir_new(self->allowed_dir, NULL);
    if (folder) {
        zdir_remove(folder, true);
        zdir_destroy(&folder);
    }
    rmdir(self->allowed_dir);
    zstr_free(&self->allowed_dir);
}
