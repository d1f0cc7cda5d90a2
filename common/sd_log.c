/*  sd_log: line-oriented logging to stderr or syslog.  */
#include "sd_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define SD_LOG_LINE_MAX 4096

static char s_process[64] = "statsdash";
static sd_log_level s_level = SD_LOG_INFO;
static bool s_syslog = false;

static const char *s_level_names[] = {"debug", "info", "warning", "error"};

void sd_log_open(const char *process, sd_log_level level, bool use_syslog)
{
    if (process)
        snprintf(s_process, sizeof s_process, "%s", process);
    s_level = level;
    if (s_syslog && !use_syslog)
        closelog();
    if (use_syslog && !s_syslog)
        openlog(s_process, LOG_PID, LOG_DAEMON);
    s_syslog = use_syslog;
}

int sd_log_configure(const char *process, const char *level_name, bool use_syslog)
{
    sd_log_level level;
    if (sd_log_level_parse(level_name, &level) != 0)
        return -1;
    sd_log_open(process, level, use_syslog);
    return 0;
}

void sd_log_close(void)
{
    if (s_syslog)
        closelog();
    s_syslog = false;
}

void sd_log_set_level(sd_log_level level)
{
    s_level = level;
}

int sd_log_level_parse(const char *text, sd_log_level *level)
{
    for (size_t i = 0; i < sizeof s_level_names / sizeof s_level_names[0]; i++) {
        if (text && strcasecmp(text, s_level_names[i]) == 0) {
            *level = (sd_log_level)i;
            return 0;
        }
    }
    return -1;
}

const char *sd_log_level_name(sd_log_level level)
{
    if ((int)level < 0 || level > SD_LOG_ERROR)
        return "unknown";
    return s_level_names[level];
}

bool sd_log_enabled(sd_log_level level)
{
    return level >= s_level;
}

//  Copies text into out, writing bytes below 0x20 and DEL as \xNN, so a
//  value received from a peer can never start a new log line.
static void s_escape_controls(const char *text, char *out, size_t size)
{
    size_t used = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p && used + 5 < size; p++) {
        if (*p < 0x20 || *p == 0x7f)
            used += (size_t)snprintf(out + used, size - used, "\\x%02x", *p);
        else
            out[used++] = (char)*p;
    }
    out[used] = '\0';
}

static int s_syslog_priority(sd_log_level level)
{
    switch (level) {
    case SD_LOG_DEBUG:
        return LOG_DEBUG;
    case SD_LOG_INFO:
        return LOG_INFO;
    case SD_LOG_WARNING:
        return LOG_WARNING;
    default:
        return LOG_ERR;
    }
}

void sd_log_write(sd_log_level level, const char *format, ...)
{
    char raw[SD_LOG_LINE_MAX];
    char message[SD_LOG_LINE_MAX];
    va_list args;
    va_start(args, format);
    vsnprintf(raw, sizeof raw, format, args);
    va_end(args);
    s_escape_controls(raw, message, sizeof message);

    if (s_syslog) {
        syslog(s_syslog_priority(level), "%s: %s", sd_log_level_name(level), message);
        return;
    }
    struct timeval now;
    gettimeofday(&now, NULL);
    struct tm utc;
    gmtime_r(&now.tv_sec, &utc);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    //  One fprintf call per line, so lines from one process do not interleave.
    fprintf(stderr, "%s.%03ldZ %s %s[%ld]: %s\n", stamp, (long)(now.tv_usec / 1000),
            sd_log_level_name(level), s_process, (long)getpid(), message);
}
