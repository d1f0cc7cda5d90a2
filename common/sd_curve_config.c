/*  sd_curve_config: CURVE client options from the broker section.  */
#include "sd_curve_config.h"

#include "sd_curve.h"

struct sd_curve_client {
    zcert_t *pair;   //  this process's public and secret key
    zcert_t *server; //  the broker's public key
};

sd_curve_client *sd_curve_client_new(const sd_config_broker *broker, char *err, size_t err_size)
{
    assert(broker && broker->curve_enabled);
    const sd_config_curve *curve = &broker->curve;
    if (!curve->server_public_key_file) {
        snprintf(err, err_size,
                 "broker.curve.server_public_key_file is missing; name the broker's public key "
                 "file there");
        return NULL;
    }
    sd_curve_client *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, err_size, "out of memory loading CURVE keys");
        return NULL;
    }
    self->pair = sd_curve_load_pair(curve->public_key_file, curve->secret_key_file, err, err_size);
    if (self->pair)
        self->server = sd_curve_load_public(curve->server_public_key_file, err, err_size);
    if (!self->server)
        sd_curve_client_destroy(&self);
    return self;
}

int sd_curve_client_apply(sd_curve_client *self, zsock_t *socket)
{
    return sd_curve_apply_client(socket, self->pair, self->server);
}

void sd_curve_client_destroy(sd_curve_client **self_p)
{
    if (!self_p || !*self_p)
        return;
    sd_curve_client *self = *self_p;
    zcert_destroy(&self->pair);
    zcert_destroy(&self->server);
    free(self);
    *self_p = NULL;
}

int sd_curve_config_apply_client(zsock_t *socket, const sd_config_broker *broker, char *err,
                                 size_t err_size)
{
    if (!broker || !broker->curve_enabled)
        return 0;
    sd_curve_client *client = sd_curve_client_new(broker, err, err_size);
    if (!client)
        return -1;
    int rc = sd_curve_client_apply(client, socket);
    if (rc != 0)
        snprintf(err, err_size,
                 "cannot apply CURVE keys: this libzmq has no CURVE support or the secret key "
                 "is missing");
    sd_curve_client_destroy(&client);
    return rc;
}
