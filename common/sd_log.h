/*  sd_log: one line per event, on stderr or syslog.

    Every line carries the time (UTC), the level, the process name and pid,
    then the message. By convention a message names the ids it concerns as
    key=value pairs at its end ("fetch failed: HTTP 503 request=r1 site=a").
    Control characters in a message are written as \xNN so that a value from
    a peer cannot forge a second line. Callers never pass secrets (tokens,
    keys, passwords): this module cannot tell them from other text.
*/
#ifndef SD_LOG_H
#define SD_LOG_H

#include <stdbool.h>

typedef enum {
    SD_LOG_DEBUG,
    SD_LOG_INFO,
    SD_LOG_WARNING,
    SD_LOG_ERROR,
} sd_log_level;

//  Sets the process name shown on every line, the lowest level written and
//  whether lines go to syslog (true) or stderr. May be called again to change
//  any of them; the process name is copied.
void sd_log_open(const char *process, sd_log_level level, bool use_syslog);

//  Same as sd_log_open with the level given by name ("debug", "info",
//  "warning", "error"), as in the config's log section. Returns 0, or -1
//  (changing nothing) when level_name is none of them.
int sd_log_configure(const char *process, const char *level_name, bool use_syslog);

//  Closes the syslog connection if one is open. Safe to call twice.
void sd_log_close(void);

void sd_log_set_level(sd_log_level level);

//  Parses "debug", "info", "warning" or "error". Returns 0, or -1 when the
//  text is none of them.
int sd_log_level_parse(const char *text, sd_log_level *level);

const char *sd_log_level_name(sd_log_level level);

bool sd_log_enabled(sd_log_level level);

//  Writes one line at the given level. Prefer the macros below, which skip
//  the formatting when the level is off.
void sd_log_write(sd_log_level level, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

#define sd_log_at(level, ...)                                                                      \
    do {                                                                                           \
        if (sd_log_enabled(level))                                                                 \
            sd_log_write(level, __VA_ARGS__);                                                      \
    } while (0)

#define sd_debug(...) sd_log_at(SD_LOG_DEBUG, __VA_ARGS__)
#define sd_info(...) sd_log_at(SD_LOG_INFO, __VA_ARGS__)
#define sd_warning(...) sd_log_at(SD_LOG_WARNING, __VA_ARGS__)
#define sd_error(...) sd_log_at(SD_LOG_ERROR, __VA_ARGS__)

#endif
