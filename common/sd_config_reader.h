/*  sd_config_reader: typed reads of JSON values into sd_config, private to
    the sd_config_*.c files.

    Each read reports what is wrong through the reader's callback and goes
    on, so one pass over a file finds every error. A value that fails its
    check leaves the default in place. Key paths look like
    "ga.sites.retrotech[0].property"; keys taken from the file have their
    control characters escaped so that an error stays on one line.
*/
#ifndef SD_CONFIG_READER_H
#define SD_CONFIG_READER_H

#include "sd_config.h"

#include <jansson.h>

#define SD_CONFIG_KEY_MAX 256

typedef struct {
    const char *path; //  the file being read
    void (*report)(const sd_config_error *err, void *arg);
    void *arg;
    int error_count;
} sd_config_reader;

//  Reports one error at key (a key path, "" for the whole file). The
//  formatted text states what was found, what is expected and what to do.
void sd_config_fail(sd_config_reader *reader, const char *key, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

//  Writes "parent.name" (or "name" when parent is empty) into key.
void sd_config_key(char key[SD_CONFIG_KEY_MAX], const char *parent, const char *name);

//  Writes "parent[index]" into key.
void sd_config_key_index(char key[SD_CONFIG_KEY_MAX], const char *parent, size_t index);

//  Describes a JSON value for a message: 31, "text", true, an array, ...
const char *sd_config_describe(const json_t *value, char *buffer, size_t size);

//  Reports every key of object that is not in known (a NULL-terminated
//  list), naming the known keys. Returns the number of unknown keys.
int sd_config_check_keys(sd_config_reader *reader, json_t *object, const char *key,
                         const char *const known[]);

//  Returns object[name] when it is a JSON object, NULL when it is absent
//  or not an object (reported). The result is borrowed from object.
json_t *sd_config_get_object(sd_config_reader *reader, json_t *object, const char *parent,
                             const char *name);

//  The reads below leave *out unchanged when object has no member name.
//  They return 0 when the member is absent or valid, -1 when it is invalid
//  (reported). Strings replace and free the old *out.

int sd_config_read_string(sd_config_reader *reader, json_t *object, const char *parent,
                          const char *name, char **out);

//  A string that must be non-empty.
int sd_config_read_text(sd_config_reader *reader, json_t *object, const char *parent,
                        const char *name, char **out);

//  A ZeroMQ endpoint: tcp://, ipc:// or inproc://.
int sd_config_read_endpoint(sd_config_reader *reader, json_t *object, const char *parent,
                            const char *name, char **out);

//  An http:// or https:// URL.
int sd_config_read_url(sd_config_reader *reader, json_t *object, const char *parent,
                       const char *name, char **out);

//  A string for which accept(text, context) returns true; expected (for
//  example "a time zone name such as \"Europe/London\"") is reported
//  otherwise.
int sd_config_read_matching(sd_config_reader *reader, json_t *object, const char *parent,
                            const char *name, bool (*accept)(const char *, const void *),
                            const void *context, const char *expected, char **out);

//  One of choices (NULL-terminated), compared exactly.
int sd_config_read_choice(sd_config_reader *reader, json_t *object, const char *parent,
                          const char *name, const char *const choices[], char **out);

int sd_config_read_bool(sd_config_reader *reader, json_t *object, const char *parent,
                        const char *name, bool *out);

//  An integer from min to max; hint (or NULL) explains the range.
int sd_config_read_int(sd_config_reader *reader, json_t *object, const char *parent,
                       const char *name, int min, int max, const char *hint, int *out);

int sd_config_read_int64(sd_config_reader *reader, json_t *object, const char *parent,
                         const char *name, int64_t min, int64_t max, const char *hint,
                         int64_t *out);

//  An array of non-empty strings, stored in file order.
int sd_config_read_strings(sd_config_reader *reader, json_t *object, const char *parent,
                           const char *name, sd_config_strings *out);

//  An e-mail address: something@domain, no spaces, no control characters.
bool sd_config_is_address(const char *text);

//  Checks every item of list with sd_config_is_address; key names the list.
int sd_config_check_addresses(sd_config_reader *reader, const char *key,
                              const sd_config_strings *list);

//  Returns a copy of text, or NULL when out of memory (reported at key).
char *sd_config_strdup(sd_config_reader *reader, const char *key, const char *text);

void sd_config_strings_clear(sd_config_strings *list);

//  Appends a copy of text. Returns 0, or -1 when out of memory.
int sd_config_strings_append(sd_config_strings *list, const char *text);

//  Reads the optional "cache" object of parent ("ga" or "youtube").
void sd_config_read_cache(sd_config_reader *reader, json_t *object, const char *parent,
                          sd_config_cache *cache);

//  Checks a site or channel name (what is "site" or "channel"): not empty,
//  not "all", no comma, no control character. Returns 0 or -1 (reported).
int sd_config_check_name(sd_config_reader *reader, const char *key, const char *name,
                         const char *what);

//  Free the arrays of the ga, youtube and schedule sections, including
//  partly filled items. Safe on NULL.
void sd_config_sites_free(sd_config_site *sites, size_t count);
void sd_config_social_sources_free(sd_config_social_source *sources, size_t count);
void sd_config_channels_free(sd_config_channel *channels, size_t count);
void sd_config_reports_free(sd_config_report *reports, size_t count);

//  Section readers, one per top-level key. Each validates its whole section
//  and stores the valid values into config.
void sd_config_read_broker(sd_config_reader *reader, json_t *section, sd_config *config);
void sd_config_read_aggregator(sd_config_reader *reader, json_t *section, sd_config *config);
void sd_config_read_ga(sd_config_reader *reader, json_t *section, sd_config *config);
void sd_config_read_youtube(sd_config_reader *reader, json_t *section, sd_config *config);
void sd_config_read_reporter(sd_config_reader *reader, json_t *section, sd_config *config);
void sd_config_read_smtp(sd_config_reader *reader, json_t *section, sd_config *config);
void sd_config_read_scheduler(sd_config_reader *reader, json_t *section, sd_config *config);
void sd_config_read_log(sd_config_reader *reader, json_t *section, sd_config *config);

//  Reads the schedule array. Runs after ga and youtube, because report
//  sites are checked against the configured sites and channels.
void sd_config_read_schedule(sd_config_reader *reader, json_t *section, sd_config *config);

#endif
