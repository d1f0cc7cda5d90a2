/*  sd_deliveries: delivered periods per report id, in one SQLite table.  */
#include "sd_deliveries.h"

#include <openssl/rand.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_log.h"

//  How long a statement waits for another process's write lock, in ms.
#define S_BUSY_TIMEOUT_MS 10000

struct sd_deliveries {
    sqlite3 *db;
    char *path; //  for log lines
};

static const char s_schema[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE IF NOT EXISTS deliveries ("
    " report_id TEXT NOT NULL,"
    " period_end TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'skipped')),"
    " delivery_id TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL,"
    " PRIMARY KEY (report_id, period_end));";

static const char *const s_state_names[] = {"sending", "sent", "skipped"};

const char *sd_delivery_state_name(sd_delivery_state state)
{
    return state <= SD_DELIVERY_SKIPPED ? s_state_names[state] : "unknown";
}

int sd_delivery_id_new(char id[SD_DELIVERY_ID_LENGTH + 1])
{
    unsigned char bytes[SD_DELIVERY_ID_LENGTH / 2];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        return -1;
    for (size_t i = 0; i < sizeof bytes; i++)
        snprintf(id + 2 * i, 3, "%02x", bytes[i]);
    return 0;
}

sd_deliveries *sd_deliveries_open(const char *path)
{
    sd_deliveries *self = calloc(1, sizeof *self);
    if (!self || !(self->path = strdup(path))) {
        free(self);
        return NULL;
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    char *message = NULL;
    int rc = sqlite3_open_v2(path, &self->db, flags, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(self->db, S_BUSY_TIMEOUT_MS);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(self->db, s_schema, NULL, NULL, &message);
    if (rc != SQLITE_OK) {
        sd_error("cannot open the scheduler database: %s database=%s",
                 message ? message : sqlite3_errstr(rc), path);
        sqlite3_free(message);
        sd_deliveries_destroy(&self);
    }
    return self;
}

void sd_deliveries_destroy(sd_deliveries **self_p)
{
    if (!self_p || !*self_p)
        return;
    sd_deliveries *self = *self_p;
    sqlite3_close(self->db);
    free(self->path);
    free(self);
    *self_p = NULL;
}

//  Prepares sql. Returns the statement, or NULL after logging the error.
static sqlite3_stmt *s_prepare(sd_deliveries *self, const char *sql)
{
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(self->db, sql, -1, &statement, NULL) != SQLITE_OK) {
        sd_error("database statement failed: %s database=%s", sqlite3_errmsg(self->db), self->path);
        return NULL;
    }
    return statement;
}

//  Binds the report id and period end as parameters 1 and 2.
static int s_bind_key(sqlite3_stmt *statement, const char *report_id, sd_date end)
{
    char text[11];
    sd_date_format(end, text);
    if (sqlite3_bind_text(statement, 1, report_id, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
        sqlite3_bind_text(statement, 2, text, -1, SQLITE_TRANSIENT) != SQLITE_OK)
        return -1;
    return 0;
}

//  Steps a statement that returns no rows, then finalizes it. Returns the
//  number of rows changed, or -1 after logging the error.
static int s_run(sd_deliveries *self, sqlite3_stmt *statement)
{
    int rc = sqlite3_step(statement);
    sqlite3_finalize(statement);
    if (rc != SQLITE_DONE) {
        sd_error("database write failed: %s database=%s", sqlite3_errmsg(self->db), self->path);
        return -1;
    }
    return sqlite3_changes(self->db);
}

//  Fills row from the columns period_end, state, delivery_id, created_ms,
//  updated_ms of the current result row. Returns 0, or -1 for a row that
//  another program wrote with invalid values.
static int s_read_row(sqlite3_stmt *statement, sd_delivery *row)
{
    const char *end = (const char *)sqlite3_column_text(statement, 0);
    const char *state = (const char *)sqlite3_column_text(statement, 1);
    const char *id = (const char *)sqlite3_column_text(statement, 2);
    memset(row, 0, sizeof *row);
    if (!end || !state || !id || sd_date_parse(end, &row->period_end) != 0 ||
        strlen(id) > SD_DELIVERY_ID_LENGTH)
        return -1;
    int index = 0;
    while (index < 3 && strcmp(state, s_state_names[index]) != 0)
        index++;
    if (index == 3)
        return -1;
    row->state = (sd_delivery_state)index;
    snprintf(row->delivery_id, sizeof row->delivery_id, "%s", id);
    row->created_ms = sqlite3_column_int64(statement, 3);
    row->updated_ms = sqlite3_column_int64(statement, 4);
    return 0;
}

int sd_deliveries_last_end(sd_deliveries *self, const char *report_id, sd_date *end)
{
    sqlite3_stmt *statement =
        s_prepare(self, "SELECT MAX(period_end) FROM deliveries WHERE report_id = ?1");
    if (!statement)
        return -1;
    int result = -1;
    if (sqlite3_bind_text(statement, 1, report_id, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(statement, 0);
        result = !text ? 0 : sd_date_parse(text, end) == 0 ? 1 : -1;
    }
    if (result < 0)
        sd_error("cannot read the last period of a report database=%s report=%s", self->path,
                 report_id);
    sqlite3_finalize(statement);
    return result;
}

int sd_deliveries_get(sd_deliveries *self, const char *report_id, sd_date end, sd_delivery *row)
{
    sqlite3_stmt *statement =
        s_prepare(self, "SELECT period_end, state, delivery_id, created_ms, updated_ms"
                        " FROM deliveries WHERE report_id = ?1 AND period_end = ?2");
    if (!statement)
        return -1;
    int result = -1;
    if (s_bind_key(statement, report_id, end) == 0) {
        int rc = sqlite3_step(statement);
        if (rc == SQLITE_DONE)
            result = 0;
        else if (rc == SQLITE_ROW && s_read_row(statement, row) == 0)
            result = 1;
    }
    if (result < 0)
        sd_error("cannot read a delivery database=%s report=%s", self->path, report_id);
    sqlite3_finalize(statement);
    return result;
}

int sd_deliveries_pending(sd_deliveries *self, const char *report_id, sd_delivery *rows, size_t max)
{
    sqlite3_stmt *statement =
        s_prepare(self, "SELECT period_end, state, delivery_id, created_ms, updated_ms"
                        " FROM deliveries WHERE report_id = ?1 AND state = 'sending'"
                        " ORDER BY period_end");
    if (!statement)
        return -1;
    int count = 0;
    int rc = sqlite3_bind_text(statement, 1, report_id, -1, SQLITE_TRANSIENT) == SQLITE_OK
                 ? sqlite3_step(statement)
                 : SQLITE_ERROR;
    while (rc == SQLITE_ROW && (size_t)count < max) {
        if (s_read_row(statement, &rows[count]) != 0) {
            rc = SQLITE_ERROR;
            break;
        }
        count++;
        rc = sqlite3_step(statement);
    }
    sqlite3_finalize(statement);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        sd_error("cannot read the pending deliveries database=%s report=%s", self->path, report_id);
        return -1;
    }
    return count;
}

int sd_deliveries_begin(sd_deliveries *self, const char *report_id, sd_date end,
                        const char *delivery_id, int64_t now_ms)
{
    sqlite3_stmt *statement = s_prepare(
        self, "INSERT INTO deliveries (report_id, period_end, state, delivery_id, created_ms,"
              " updated_ms) VALUES (?1, ?2, 'sending', ?3, ?4, ?4)"
              " ON CONFLICT (report_id, period_end) DO UPDATE SET state = 'sending',"
              " delivery_id = excluded.delivery_id, updated_ms = excluded.updated_ms");
    if (!statement)
        return -1;
    if (s_bind_key(statement, report_id, end) != 0 ||
        sqlite3_bind_text(statement, 3, delivery_id, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
        sqlite3_bind_int64(statement, 4, now_ms) != SQLITE_OK) {
        sqlite3_finalize(statement);
        return -1;
    }
    return s_run(self, statement) < 0 ? -1 : 0;
}

int sd_deliveries_mark_sent(sd_deliveries *self, const char *report_id, sd_date end,
                            const char *delivery_id, int64_t now_ms)
{
    sqlite3_stmt *statement =
        s_prepare(self, "UPDATE deliveries SET state = 'sent', updated_ms = ?4"
                        " WHERE report_id = ?1 AND period_end = ?2 AND delivery_id = ?3");
    if (!statement)
        return -1;
    if (s_bind_key(statement, report_id, end) != 0 ||
        sqlite3_bind_text(statement, 3, delivery_id, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
        sqlite3_bind_int64(statement, 4, now_ms) != SQLITE_OK) {
        sqlite3_finalize(statement);
        return -1;
    }
    int changed = s_run(self, statement);
    if (changed < 0)
        return -1;
    return changed > 0 ? 1 : 0;
}

int sd_deliveries_skip(sd_deliveries *self, const char *report_id, sd_date end, int64_t now_ms)
{
    char id[SD_DELIVERY_ID_LENGTH + 1];
    if (sd_delivery_id_new(id) != 0)
        return -1;
    sqlite3_stmt *statement = s_prepare(
        self, "INSERT INTO deliveries (report_id, period_end, state, delivery_id, created_ms,"
              " updated_ms) VALUES (?1, ?2, 'skipped', ?3, ?4, ?4)"
              " ON CONFLICT (report_id, period_end) DO UPDATE SET state = 'skipped',"
              " updated_ms = excluded.updated_ms");
    if (!statement)
        return -1;
    if (s_bind_key(statement, report_id, end) != 0 ||
        sqlite3_bind_text(statement, 3, id, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
        sqlite3_bind_int64(statement, 4, now_ms) != SQLITE_OK) {
        sqlite3_finalize(statement);
        return -1;
    }
    return s_run(self, statement) < 0 ? -1 : 0;
}
