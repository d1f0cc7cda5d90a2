/*  sd_sent: the delivery ids this reporter has mailed, in SQLite.

    The scheduler gives each report it asks for a delivery id and expects a
    report to be mailed at most once per id, also when it asks again after a
    crash or a lost reply. The reporter records an id once the SMTP server
    accepted the mail, and answers a request whose id is recorded with the
    status "already_sent" instead of mailing it again. The file is the
    config's reporter.state_file; the table is created when missing.
*/
#ifndef SD_SENT_H
#define SD_SENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sd_sent sd_sent;

//  Opens (creating when needed) the record at path. Returns it, or NULL
//  with one line in error naming the file.
sd_sent *sd_sent_open(const char *path, char *error, size_t size);

//  Returns 1 when delivery_id is recorded, 0 when not, -1 on a database
//  error (logged).
int sd_sent_contains(sd_sent *self, const char *delivery_id);

//  Records delivery_id as mailed at sent_ms (milliseconds since the Unix
//  epoch) for request_id. Recording an id twice keeps the first record.
//  Returns 0, or -1 on a database error (logged).
int sd_sent_record(sd_sent *self, const char *delivery_id, const char *request_id,
                   int64_t sent_ms);

//  Closes the record and sets *self_p to NULL. Safe on NULL.
void sd_sent_close(sd_sent **self_p);

#endif
