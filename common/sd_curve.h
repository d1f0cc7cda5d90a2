/*  sd_curve: CURVE key files and the socket options that use them.

    Key files are the ZPL text files that CZMQ's zcert reads and that
    `statsdash keygen DIR/NAME` writes: DIR/NAME contains the public key and
    DIR/NAME_secret contains both keys. The config names them in broker.curve
    (public_key_file, secret_key_file, server_public_key_file, allowed_keys).
    A secret key file must not be accessible by group or others; loading
    one that is fails with a message that names the file and `chmod 600`.
    Nothing here logs, and no error text contains a key.
*/
#ifndef SD_CURVE_H
#define SD_CURVE_H

#include <czmq.h>
#include <stddef.h>

//  Loads a key pair. The secret key file supplies both keys. public_path,
//  when not NULL, must hold the same public key. Returns a new certificate
//  that the caller destroys with zcert_destroy, or NULL with one line in
//  err (err_size bytes) naming the file and what to do.
zcert_t *sd_curve_load_pair(const char *public_path, const char *secret_path, char *err,
                            size_t err_size);

//  Loads the public key from a key file (public or secret; only the public
//  key is kept, so the file's mode is not checked). Returns a new
//  certificate whose secret key is all zero bytes, or NULL with err filled.
zcert_t *sd_curve_load_public(const char *path, char *err, size_t err_size);

//  Makes socket a CURVE server with the key pair of cert. Call before bind.
//  A ZAP handler (zauth, for instance) decides which clients may connect;
//  without one every client with a valid handshake is accepted. Returns 0,
//  or -1 when cert has no secret key or libzmq lacks CURVE support.
int sd_curve_apply_server(zsock_t *socket, zcert_t *cert);

//  Makes socket a CURVE client with the key pair of cert that accepts only
//  the server whose public key is in server. Call before connect. Returns
//  0, or -1 when cert has no secret key or libzmq lacks CURVE support.
int sd_curve_apply_client(zsock_t *socket, zcert_t *cert, zcert_t *server);

#endif
