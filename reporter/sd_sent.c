/*  sd_sent: the delivery ids this reporter has mailed, in SQLite.  */
#include "sd_sent.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_log.h"

struct sd_sent {
    sqlite3 *db;
    char *path;
};

static const char s_schema[] = "CREATE TABLE IF NOT EXISTS sent ("
                               " delivery_id TEXT PRIMARY KEY,"
                               " request_id TEXT NOT NULL,"
                               " sent_ms INTEGER NOT NULL)";

sd_sent *sd_sent_open(const char *path, char *error, size_t size)
{
    if (!path || !*path) {
        snprintf(error, size, "no state file configured; set reporter.state_file");
        return NULL;
    }
    sd_sent *self = calloc(1, sizeof *self);
    if (!self || !(self->path = strdup(path))) {
        snprintf(error, size, "out of memory while opening %s", path);
        free(self);
        return NULL;
    }
    int rc = sqlite3_open_v2(path, &self->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             NULL);
    //  Another reporter may write the same file; wait for its lock.
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(self->db, 5000);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(self->db, s_schema, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(error, size, "cannot open the reporter state file %s: %s", path,
                 self->db ? sqlite3_errmsg(self->db) : sqlite3_errstr(rc));
        sd_sent_close(&self);
    }
    return self;
}

int sd_sent_contains(sd_sent *self, const char *delivery_id)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(self->db, "SELECT 1 FROM sent WHERE delivery_id = ?", -1, &stmt,
                                NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(stmt, 1, delivery_id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    int found = rc == SQLITE_ROW ? 1 : (rc == SQLITE_DONE ? 0 : -1);
    if (found < 0)
        sd_error("delivery id lookup failed: %s file=%s delivery=%s", sqlite3_errmsg(self->db),
                 self->path, delivery_id);
    sqlite3_finalize(stmt);
    return found;
}

int sd_sent_record(sd_sent *self, const char *delivery_id, const char *request_id,
                   int64_t sent_ms)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(self->db,
                                "INSERT OR IGNORE INTO sent (delivery_id, request_id, sent_ms)"
                                " VALUES (?, ?, ?)",
                                -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(stmt, 1, delivery_id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(stmt, 2, request_id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(stmt, 3, sent_ms);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        sd_error("delivery id not recorded: %s file=%s delivery=%s request=%s",
                 sqlite3_errmsg(self->db), self->path, delivery_id, request_id);
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

void sd_sent_close(sd_sent **self_p)
{
    sd_sent *self = *self_p;
    if (!self)
        return;
    sqlite3_close(self->db);
    free(self->path);
    free(self);
    *self_p = NULL;
}
