/*  sd_curve_config: CURVE settings of the config's broker.curve section,
    applied to the sockets of processes that connect to the broker.

    MDP clients and workers (sd_mdcli, sd_mdwrk), bus publishers and bus
    subscribers are CURVE clients: they use their own key pair
    (public_key_file, secret_key_file) and accept only the broker whose
    public key is in server_public_key_file. Key files are read with
    sd_curve, which rejects a secret key file that group or others can
    read. Nothing here logs a key.
*/
#ifndef SD_CURVE_CONFIG_H
#define SD_CURVE_CONFIG_H

#include <czmq.h>

#include "sd_config.h"

typedef struct sd_curve_client sd_curve_client;

//  Loads the client key pair and the broker's public key named by
//  broker->curve. Returns a new object, or NULL with one line in err
//  (err_size bytes) naming the file or key and what to do. Call only when
//  broker->curve_enabled is true.
sd_curve_client *sd_curve_client_new(const sd_config_broker *broker, char *err, size_t err_size);

//  Makes socket a CURVE client of the broker. Call before connect.
//  Returns 0 or -1.
int sd_curve_client_apply(sd_curve_client *self, zsock_t *socket);

void sd_curve_client_destroy(sd_curve_client **self_p);

//  Applies the CURVE client options of broker to a plain socket (a bus
//  publisher or subscriber, for example) before it connects. Does nothing
//  and returns 0 when broker is NULL or has no curve section. Returns -1
//  with err filled when a key file cannot be used.
int sd_curve_config_apply_client(zsock_t *socket, const sd_config_broker *broker, char *err,
                                 size_t err_size);

#endif
