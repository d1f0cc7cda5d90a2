/*  sd_deliveries: the scheduler's record of delivered periods, in SQLite.

    One row per (report id, period end): its state, the delivery id sent
    with the report.request, and when the row was created and last changed.
    A period is written as "sending" with its delivery id before the request
    goes out, and becomes "sent" only once the reporter replies that the
    report was delivered. A row left "sending" (the scheduler stopped, or the
    request failed) is sent again with the same delivery id, and the
    reporter replies "already_sent" to a delivery id it has delivered, so
    no report goes out twice. "skipped" marks a period an operator chose not
    to send. The database runs in WAL mode, so the operator commands can
    read and write it while the scheduler runs.
*/
#ifndef SD_DELIVERIES_H
#define SD_DELIVERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sd_period.h"

//  Characters of a delivery id: 128 random bits as lowercase hex.
#define SD_DELIVERY_ID_LENGTH 32

typedef enum {
    SD_DELIVERY_SENDING,
    SD_DELIVERY_SENT,
    SD_DELIVERY_SKIPPED,
} sd_delivery_state;

typedef struct {
    sd_date period_end;
    sd_delivery_state state;
    char delivery_id[SD_DELIVERY_ID_LENGTH + 1];
    int64_t created_ms; //  milliseconds since the Unix epoch (sd_now_ms)
    int64_t updated_ms;
} sd_delivery;

typedef struct sd_deliveries sd_deliveries;

//  Opens (creating if needed) the database file at path and its table.
//  Returns the store, or NULL after logging an error naming the file.
sd_deliveries *sd_deliveries_open(const char *path);

void sd_deliveries_destroy(sd_deliveries **self);

//  Returns "sending", "sent" or "skipped".
const char *sd_delivery_state_name(sd_delivery_state state);

//  Writes a new random delivery id into id. Returns 0, or -1 when no
//  random bytes could be had.
int sd_delivery_id_new(char id[SD_DELIVERY_ID_LENGTH + 1]);

//  Finds the latest period end recorded for report_id, whatever its state.
//  Returns 1 and sets *end, 0 when the report has no row, or -1 on error.
int sd_deliveries_last_end(sd_deliveries *self, const char *report_id, sd_date *end);

//  Reads the row of one period. Returns 1 and fills row, 0 when there is
//  none, or -1 on error.
int sd_deliveries_get(sd_deliveries *self, const char *report_id, sd_date end, sd_delivery *row);

//  Lists the report's rows in state "sending", oldest period first. Fills
//  up to max rows and returns how many were filled, or -1 on error.
int sd_deliveries_pending(sd_deliveries *self, const char *report_id, sd_delivery *rows,
                          size_t max);

//  Records the period as "sending" with delivery_id, creating the row or
//  replacing the state and delivery id of an existing one. Returns 0 or -1.
int sd_deliveries_begin(sd_deliveries *self, const char *report_id, sd_date end,
                        const char *delivery_id, int64_t now_ms);

//  Marks the period "sent" if its row still carries delivery_id. Returns 1
//  when it did, 0 when the row has another delivery id or is missing (an
//  operator resent or skipped it meanwhile), or -1 on error.
int sd_deliveries_mark_sent(sd_deliveries *self, const char *report_id, sd_date end,
                            const char *delivery_id, int64_t now_ms);

//  Marks the period "skipped", creating the row if needed (with a new
//  delivery id that is never sent). Returns 0 or -1.
int sd_deliveries_skip(sd_deliveries *self, const char *report_id, sd_date end, int64_t now_ms);

#endif
