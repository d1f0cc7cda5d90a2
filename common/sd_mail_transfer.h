/*  sd_mail_transfer: one SMTP transfer driven by a zloop, without blocking.

    The message is formatted by sd_mail and handed to a libcurl multi
    handle; a zloop timer advances the transfer every few milliseconds until
    it ends, so the process keeps serving its other sockets meanwhile. The
    outcome is classed for the caller's retry policy: accepted, a temporary
    failure (an SMTP 4xx reply, or no reply at all: connection refused or
    timed out), or a permanent rejection (5xx). The transfer makes one
    attempt; retrying is the caller's choice.
*/
#ifndef SD_MAIL_TRANSFER_H
#define SD_MAIL_TRANSFER_H

#include <czmq.h>

#include "sd_mail.h"

typedef enum {
    SD_MAIL_ACCEPTED,               //  the server accepted the message
    SD_MAIL_TEMPORARY,              //  4xx reply or no reply; worth retrying
    SD_MAIL_REJECTED,               //  5xx reply or a local error; retrying will not help
} sd_mail_result;

typedef struct sd_mail_transfer sd_mail_transfer;

//  Called once when the transfer ends, from the loop. error is one line
//  ("" when accepted), valid during the call. The callback may destroy the
//  transfer.
typedef void(sd_mail_done_fn)(sd_mail_result result, const char *error, void *arg);

//  Starts sending message through server on loop. message and server are
//  only read during this call. Returns the transfer, or NULL with one line
//  in error when the message is invalid or the transfer cannot start (done
//  is then never called).
sd_mail_transfer *sd_mail_transfer_start(zloop_t *loop, const sd_mail_server *server,
                                         const sd_mail_message *message, sd_mail_done_fn *done,
                                         void *arg, char *error, size_t size);

//  Stops the transfer if it still runs (done is not called), frees it and
//  sets *transfer_p to NULL. Safe on NULL.
void sd_mail_transfer_destroy(sd_mail_transfer **transfer_p);

#endif
