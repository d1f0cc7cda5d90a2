/*  sd_cache: an on-disk cache of API responses (one SQLite file).

    Entries map a key (the hex SHA-256 of a canonical request, made with
    sd_cache_key) to a response body. The workers store only responses for
    periods that no longer change (see sd_cache_period_closed), so entries
    never expire. When the stored bodies and keys add up to more than
    max_bytes, the oldest entries (by time stored) are deleted. Several
    processes on one host may share the file (WAL journal, busy timeout).

    The cache is an optimisation and never a reason to fail: a file that
    cannot be opened, is not a database or is corrupt is logged and the
    cache turns itself off (every lookup misses, every store is skipped).

    SQLite calls block the calling thread for the disk access, which is
    short next to an API request; there is no asynchronous SQLite API.
*/
#ifndef SD_CACHE_H
#define SD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Hex SHA-256 and its terminator.
#define SD_CACHE_KEY_SIZE 65

//  Responses of periods that ended more than this many days ago are cached.
#define SD_CACHE_CLOSED_AFTER_DAYS 3

typedef struct sd_cache sd_cache;

//  Opens (creating when missing) the cache at path with a size limit in
//  bytes (at least 1). Returns the cache. When the file cannot be used, it
//  logs a warning naming the file and returns a cache that is turned off,
//  so callers need no special case. Returns NULL only when out of memory.
sd_cache *sd_cache_open(const char *path, int64_t max_bytes);

//  Returns true while the cache works (opened and no error since).
bool sd_cache_usable(const sd_cache *cache);

//  Writes into key the hex SHA-256 of scope, a NUL byte and request (for
//  example scope "ga4:310000001:runReport" and the request body in
//  canonical form). Returns 0, or -1 when hashing fails.
int sd_cache_key(const char *scope, const char *request, size_t request_size,
                 char key[SD_CACHE_KEY_SIZE]);

//  Looks key up. Returns 1 with *value (a new NUL-terminated buffer the
//  caller frees) and *size on a hit, 0 on a miss or when the cache is off.
//  A read error logs a warning, turns the cache off and counts as a miss.
int sd_cache_get(sd_cache *cache, const char *key, char **value, size_t *size);

//  Stores value under key (replacing an entry of the same key), then
//  deletes the oldest entries while the total passes max_bytes. A value
//  larger than max_bytes is not stored. Returns 0 when stored, -1 when not
//  (cache off, too large, or a write error, which is logged and turns the
//  cache off).
int sd_cache_put(sd_cache *cache, const char *key, const void *value, size_t size);

//  Returns the number of entries and, when bytes is not NULL, their total
//  size in bytes (keys and values). Returns -1 when the cache is off.
int64_t sd_cache_count(sd_cache *cache, int64_t *bytes);

//  Returns true when the period ending on end_date ("YYYY-MM-DD", the last
//  day included) ended more than SD_CACHE_CLOSED_AFTER_DAYS days before
//  now_ms (milliseconds since the epoch, UTC days). A date that does not
//  parse is not closed.
bool sd_cache_period_closed(const char *end_date, int64_t now_ms);

//  Closes the file and frees the cache; *cache is set to NULL. Safe on NULL.
void sd_cache_close(sd_cache **cache);

#endif
