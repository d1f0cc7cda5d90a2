/*  sd_cache: SQLite store of API responses with a size limit.  */
#include "sd_cache.h"

#include "sd_log.h"
#include "sd_period.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SD_CACHE_BUSY_TIMEOUT_MS 2000
#define SD_CACHE_MS_PER_DAY 86400000LL

struct sd_cache {
    char *path;
    int64_t max_bytes;
    sqlite3 *db;                    //  NULL once the cache is off
};

//  synchronous=NORMAL: in WAL mode a commit then waits for no fsync, and
//  SQLite documents that a power loss may lose the last commits but never
//  corrupts the file. Losing a cached response only costs a request.
static const char *s_schema =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS responses ("
    " key TEXT PRIMARY KEY,"
    " value BLOB NOT NULL,"
    " bytes INTEGER NOT NULL,"      //  length of key and value
    " stored_ms INTEGER NOT NULL);" //  wall clock when stored, for pruning
    "CREATE INDEX IF NOT EXISTS responses_by_age ON responses (stored_ms);";

//  Logs what failed and turns the cache off for the rest of the process.
static void s_turn_off(sd_cache *cache, const char *action)
{
    if (!cache->db)
        return;
    sd_warning("response cache %s failed: %s; continuing without the cache (delete or fix "
               "the file) file=%s",
               action, sqlite3_errmsg(cache->db), cache->path);
    sqlite3_close(cache->db);
    cache->db = NULL;
}

sd_cache *sd_cache_open(const char *path, int64_t max_bytes)
{
    sd_cache *cache = calloc(1, sizeof *cache);
    if (!cache)
        return NULL;
    cache->path = strdup(path ? path : "");
    cache->max_bytes = max_bytes > 0 ? max_bytes : 1;
    if (!cache->path) {
        free(cache);
        return NULL;
    }
    int rc = sqlite3_open_v2(cache->path, &cache->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(cache->db, SD_CACHE_BUSY_TIMEOUT_MS);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(cache->db, s_schema, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        if (!cache->db)
            sd_warning("cannot open the response cache (out of memory); continuing without it "
                       "file=%s", cache->path);
        s_turn_off(cache, "opening");
        return cache;
    }
    sd_info("response cache open max_bytes=%" PRId64 " file=%s", cache->max_bytes, cache->path);
    return cache;
}

bool sd_cache_usable(const sd_cache *cache)
{
    return cache && cache->db;
}

int sd_cache_key(const char *scope, const char *request, size_t request_size,
                 char key[SD_CACHE_KEY_SIZE])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    int ok = context && EVP_DigestInit_ex(context, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(context, scope, strlen(scope) + 1) == 1 &&
             EVP_DigestUpdate(context, request, request_size) == 1 &&
             EVP_DigestFinal_ex(context, digest, &length) == 1 && length == 32;
    EVP_MD_CTX_free(context);
    if (!ok)
        return -1;
    for (unsigned int i = 0; i < length; i++)
        snprintf(key + 2 * i, 3, "%02x", digest[i]);
    return 0;
}

int sd_cache_get(sd_cache *cache, const char *key, char **value, size_t *size)
{
    if (!sd_cache_usable(cache))
        return 0;
    sqlite3_stmt *statement = NULL;
    int found = 0;
    int rc = sqlite3_prepare_v2(cache->db, "SELECT value FROM responses WHERE key = ?1", -1,
                                &statement, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(statement, 1, key, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(statement);
    if (rc == SQLITE_ROW) {
        size_t bytes = (size_t)sqlite3_column_bytes(statement, 0);
        const void *blob = sqlite3_column_blob(statement, 0);
        *value = malloc(bytes + 1);
        if (*value) {
            if (bytes > 0)
                memcpy(*value, blob, bytes);
            (*value)[bytes] = '\0';
            *size = bytes;
            found = 1;
        }
        rc = SQLITE_DONE;
    }
    if (rc != SQLITE_DONE)
        s_turn_off(cache, "lookup");
    sqlite3_finalize(statement);
    return found;
}

//  Runs one statement whose parameters are, in order, a text, a blob and
//  two integers. A NULL text or blob, or a negative integer, is left out.
//  Returns the result of sqlite3_step.
static int s_run(sd_cache *cache, const char *sql, const char *text, const void *blob,
                 size_t blob_size, int64_t first, int64_t second)
{
    sqlite3_stmt *statement = NULL;
    int rc = sqlite3_prepare_v2(cache->db, sql, -1, &statement, NULL);
    int index = 1;
    if (rc == SQLITE_OK && text)
        rc = sqlite3_bind_text(statement, index++, text, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && blob)
        rc = sqlite3_bind_blob64(statement, index++, blob, blob_size, SQLITE_STATIC);
    if (rc == SQLITE_OK && first >= 0)
        rc = sqlite3_bind_int64(statement, index++, first);
    if (rc == SQLITE_OK && second >= 0)
        rc = sqlite3_bind_int64(statement, index++, second);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(statement);
    sqlite3_finalize(statement);
    return rc;
}

//  Reads one integer (SUM, COUNT). Returns 0 or -1.
static int s_query_int(sd_cache *cache, const char *sql, int64_t *value)
{
    sqlite3_stmt *statement = NULL;
    int rc = sqlite3_prepare_v2(cache->db, sql, -1, &statement, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(statement);
    if (rc == SQLITE_ROW)
        *value = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return rc == SQLITE_ROW ? 0 : -1;
}

//  Deletes the oldest entries until the total is at most max_bytes.
//  Returns 0 or -1.
static int s_prune(sd_cache *cache)
{
    int64_t total = 0;
    if (s_query_int(cache, "SELECT COALESCE(SUM(bytes), 0) FROM responses", &total) != 0)
        return -1;
    int64_t pruned = 0;
    while (total > cache->max_bytes) {
        sqlite3_stmt *statement = NULL;
        int64_t rowid = 0;
        int64_t bytes = 0;
        int rc = sqlite3_prepare_v2(cache->db,
                                    "SELECT rowid, bytes FROM responses "
                                    "ORDER BY stored_ms, rowid LIMIT 1",
                                    -1, &statement, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(statement);
        if (rc == SQLITE_ROW) {
            rowid = sqlite3_column_int64(statement, 0);
            bytes = sqlite3_column_int64(statement, 1);
        }
        sqlite3_finalize(statement);
        if (rc != SQLITE_ROW ||
            s_run(cache, "DELETE FROM responses WHERE rowid = ?1", NULL, NULL, 0, rowid, -1) !=
                SQLITE_DONE)
            return -1;
        total -= bytes;
        pruned++;
    }
    if (pruned > 0)
        sd_debug("response cache pruned %" PRId64 " entries, %" PRId64 " bytes left file=%s",
                 pruned, total, cache->path);
    return 0;
}

int sd_cache_put(sd_cache *cache, const char *key, const void *value, size_t size)
{
    if (!sd_cache_usable(cache))
        return -1;
    int64_t bytes = (int64_t)(strlen(key) + size);
    if (bytes > cache->max_bytes)
        return -1;
    int rc = sqlite3_exec(cache->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = s_run(cache,
                   "INSERT OR REPLACE INTO responses (key, value, bytes, stored_ms) "
                   "VALUES (?1, ?2, ?3, ?4)",
                   key, value ? value : "", size, bytes, sd_clock_ms());
    if (rc == SQLITE_DONE)
        rc = s_prune(cache) == 0 ? SQLITE_OK : SQLITE_ERROR;
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(cache->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_exec(cache->db, "ROLLBACK", NULL, NULL, NULL);
        s_turn_off(cache, "store");
        return -1;
    }
    return 0;
}

int64_t sd_cache_count(sd_cache *cache, int64_t *bytes)
{
    int64_t count = 0;
    if (!sd_cache_usable(cache) ||
        s_query_int(cache, "SELECT COUNT(*) FROM responses", &count) != 0)
        return -1;
    if (bytes && s_query_int(cache, "SELECT COALESCE(SUM(bytes), 0) FROM responses", bytes) != 0)
        return -1;
    return count;
}

bool sd_cache_period_closed(const char *end_date, int64_t now_ms)
{
    sd_date end;
    if (!end_date || sd_date_parse(end_date, &end) != 0)
        return false;
    sd_date epoch = {1970, 1, 1};
    int64_t ended_ms = ((int64_t)sd_date_diff_days(epoch, end) + 1) * SD_CACHE_MS_PER_DAY;
    return now_ms - ended_ms > SD_CACHE_CLOSED_AFTER_DAYS * SD_CACHE_MS_PER_DAY;
}

void sd_cache_close(sd_cache **cache_p)
{
    sd_cache *cache = *cache_p;
    if (!cache)
        return;
    if (cache->db)
        sqlite3_close(cache->db);
    free(cache->path);
    free(cache);
    *cache_p = NULL;
}
