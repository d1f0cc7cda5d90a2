/*  cli_request: `statsdash request`, one report through the broker.

    The command checks its arguments, and the site names against the
    config. It sends the broker an mmi.service request to learn whether a
    reporter is registered (cli_request_checks.c), then sends a report.request to the
    service "report" with the deadline now + --timeout (system clock). It
    waits a little past that deadline for the reply, then writes the report
    in the requested format to stdout or to -o FILE. Exit status: 0 complete
    report, 2 report delivered with missing data (the warnings go to
    stderr), 1 no report (usage error, bad arguments, bad config, no broker
    or reporter, error reply or no reply; one line on stderr explains it).
*/
#include "cli.h"
#include "cli_request.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sd_config.h"
#include "sd_log.h"
#include "sd_mdcli.h"
#include "sd_period.h"
#include "sd_proto.h"

#define S_TIMEOUT_DEFAULT_S 120
#define S_TIMEOUT_MAX_S 86400
//  How long past the deadline the reply is still awaited, because the
//  broker replies with an error to a request that expired in its queue, and
//  that reply needs a moment to arrive.
#define S_REPLY_GRACE_MS 3000
//  The maximum time the broker has to reply to the mmi.service probe.
#define S_PROBE_TIMEOUT_MS 3000

static const char s_usage[] =
    "Usage: statsdash request -c FILE --report TYPE --sites all|NAME,... --frequency F\n"
    "                         --date YYYY-MM-DD [--format html|csv|json] [-o FILE]\n"
    "                         [--to ADDRESS,...] [--timeout SECONDS]\n"
    "                         [--yearly calendar|weekday] [-v]\n"
    "\n"
    "Requests a report through the broker and writes it to stdout or FILE. First\n"
    "checks the --sites names against the config and asks the broker, for up to\n"
    "3 seconds, whether a statsdash-reporter is registered. Warns on stderr when\n"
    "the period is not over yet (by today in scheduler.timezone), then goes on.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE      configuration file (JSON)\n"
    "      --report TYPE      ga-core, ga-social, ga-year-social, ga-social-export or youtube\n"
    "      --sites LIST       \"all\" or comma-separated site (or channel) names from the config\n"
    "      --frequency F      DAILY, WOW_DAILY, WEEKLY or MONTHLY\n"
    "      --date DATE        last day of the period, YYYY-MM-DD\n"
    "      --format FORMAT    html (default), csv or json\n"
    "  -o, --output FILE      write the report to FILE instead of stdout\n"
    "      --to LIST          comma-separated mail addresses to send the report to\n"
    "      --timeout SECONDS  how long the report may take, 1 to 86400 (default 120);\n"
    "                         the reply is awaited 3 seconds longer\n"
    "      --yearly ALIGN     yearly comparison: calendar (default: the same dates a\n"
    "                         year earlier) or weekday (364 days earlier)\n"
    "  -v, --verbose          log the client's retries and details on stderr\n"
    "  -h, --help             print this help and exit\n"
    "\n"
    "Exit status: 0 complete report, 2 report delivered with missing data\n"
    "(warnings on stderr), 1 error: no report, usage errors included (one line on\n"
    "stderr explains the error).\n";

static const char *const s_reports[] = {"ga-core", "ga-social", "ga-year-social",
                                        "ga-social-export", "youtube"};
static const char *const s_formats[] = {"html", "csv", "json"};

typedef struct {
    const char *config_path;
    const char *report;
    const char *sites;
    const char *frequency;
    const char *date;
    const char *format;             //  default "html"
    const char *output_path;        //  NULL: stdout
    const char *recipients;         //  NULL: no mail
    const char *timeout;            //  NULL: S_TIMEOUT_DEFAULT_S
    const char *yearly;             //  default "calendar"
    int timeout_s;
    bool verbose;                   //  log at debug level instead of error
} s_args;

static bool s_in_list(const char *value, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(list[i], value) == 0)
            return true;
    }
    return false;
}

//  Reads the options into args. Returns 0 to go on, 1 when help was
//  printed, -1 on an unknown option (reported).
static int s_parse_options(int argc, char **argv, s_args *args)
{
    enum {
        OPT_REPORT = 256,
        OPT_SITES,
        OPT_FREQUENCY,
        OPT_DATE,
        OPT_FORMAT,
        OPT_TO,
        OPT_TIMEOUT,
        OPT_YEARLY
    };
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},  {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},          {"report", required_argument, NULL, OPT_REPORT},
        {"sites", required_argument, NULL, OPT_SITES},
        {"frequency", required_argument, NULL, OPT_FREQUENCY},
        {"date", required_argument, NULL, OPT_DATE},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"to", required_argument, NULL, OPT_TO},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"yearly", required_argument, NULL, OPT_YEARLY},
        {"verbose", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    const char **targets[] = {
        [OPT_REPORT - 256] = &args->report,   [OPT_SITES - 256] = &args->sites,
        [OPT_FREQUENCY - 256] = &args->frequency, [OPT_DATE - 256] = &args->date,
        [OPT_FORMAT - 256] = &args->format,   [OPT_TO - 256] = &args->recipients,
        [OPT_TIMEOUT - 256] = &args->timeout, [OPT_YEARLY - 256] = &args->yearly,
    };
    int option;
    optind = 1;
    opterr = 0;
    while ((option = getopt_long(argc, argv, ":c:o:hv", options, NULL)) != -1) {
        if (option == 'c')
            args->config_path = optarg;
        else if (option == 'o')
            args->output_path = optarg;
        else if (option == 'v')
            args->verbose = true;
        else if (option == 'h') {
            fputs(s_usage, stdout);
            return 1;
        } else if (option >= OPT_REPORT && option <= OPT_YEARLY)
            *targets[option - 256] = optarg;
        else {
            sd_cli_bad_option("request", option, argv);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "statsdash request: unexpected argument \"%s\"; run \"statsdash request "
                        "--help\"\n", argv[optind]);
        return -1;
    }
    return 0;
}

//  Returns the first required option that is missing, or NULL.
static const char *s_missing_option(const s_args *args)
{
    if (!args->config_path)
        return "-c FILE";
    if (!args->report)
        return "--report TYPE";
    if (!args->sites)
        return "--sites all|NAME,...";
    if (!args->frequency)
        return "--frequency F";
    if (!args->date)
        return "--date YYYY-MM-DD";
    return NULL;
}

//  Returns true when list is comma-separated non-empty items without
//  control characters. Spaces are allowed when allow_spaces is true,
//  because YouTube channel names in the config may contain them.
static bool s_list_valid(const char *list, bool allow_spaces)
{
    if (*list == '\0' || *list == ',' || list[strlen(list) - 1] == ',' || strstr(list, ",,"))
        return false;
    for (const unsigned char *p = (const unsigned char *)list; *p; p++) {
        if (*p < ' ' || *p == 0x7f || (*p == ' ' && !allow_spaces))
            return false;
    }
    return true;
}

static bool s_recipients_valid(const char *list)
{
    if (!s_list_valid(list, false))
        return false;
    //  Every address needs an '@' between other characters.
    for (const char *item = list; item;) {
        const char *end = strchr(item, ',');
        size_t len = end ? (size_t)(end - item) : strlen(item);
        const char *at = memchr(item, '@', len);
        if (!at || at == item || at == item + len - 1)
            return false;
        item = end ? end + 1 : NULL;
    }
    return true;
}

static int s_parse_timeout(s_args *args)
{
    args->timeout_s = S_TIMEOUT_DEFAULT_S;
    if (!args->timeout)
        return 0;
    char *end = NULL;
    errno = 0;
    long value = strtol(args->timeout, &end, 10);
    if (errno != 0 || end == args->timeout || *end != '\0' || value < 1 ||
        value > S_TIMEOUT_MAX_S)
        return -1;
    args->timeout_s = (int)value;
    return 0;
}

//  Checks the values of the options. Returns 0, or -1 after printing one
//  line naming the value and the accepted ones.
static int s_check_args(s_args *args)
{
    sd_frequency frequency;
    sd_date date;
    const char *missing = s_missing_option(args);
    if (missing)
        fprintf(stderr, "statsdash request: missing option %s; run \"statsdash request --help\"\n",
                missing);
    else if (!s_in_list(args->report, s_reports, sizeof s_reports / sizeof s_reports[0]))
        fprintf(stderr, "statsdash request: invalid report type \"%s\"; expected ga-core, "
                        "ga-social, ga-year-social, ga-social-export or youtube\n", args->report);
    else if (!s_list_valid(args->sites, true))
        fprintf(stderr, "statsdash request: invalid --sites \"%s\"; expected all or "
                        "comma-separated names without control characters\n", args->sites);
    else if (sd_frequency_parse(args->frequency, &frequency) != 0)
        fprintf(stderr, "statsdash request: invalid frequency \"%s\"; expected DAILY, WOW_DAILY, "
                        "WEEKLY or MONTHLY\n", args->frequency);
    else if (sd_date_parse(args->date, &date) != 0)
        fprintf(stderr, "statsdash request: invalid date \"%s\"; expected a calendar date as "
                        "YYYY-MM-DD\n", args->date);
    else if (!s_in_list(args->format, s_formats, sizeof s_formats / sizeof s_formats[0]))
        fprintf(stderr, "statsdash request: invalid format \"%s\"; expected html, csv or json\n",
                args->format);
    else if (args->recipients && !s_recipients_valid(args->recipients))
        fprintf(stderr, "statsdash request: invalid --to \"%s\"; expected comma-separated mail "
                        "addresses\n", args->recipients);
    else if (strcmp(args->yearly, "calendar") != 0 && strcmp(args->yearly, "weekday") != 0)
        fprintf(stderr, "statsdash request: invalid --yearly \"%s\"; expected calendar or "
                        "weekday\n", args->yearly);
    else if (s_parse_timeout(args) != 0)
        fprintf(stderr, "statsdash request: invalid timeout \"%s\"; expected whole seconds from "
                        "1 to %d\n", args->timeout, S_TIMEOUT_MAX_S);
    else
        return 0;
    return -1;
}

//  Pushes the comma-separated items of list. Returns 0 or -1.
static int s_push_split(sd_strings *strings, const char *list)
{
    char *copy = strdup(list);
    if (!copy)
        return -1;
    int rc = 0;
    char *state = NULL;
    for (char *item = strtok_r(copy, ",", &state); item && rc == 0;
         item = strtok_r(NULL, ",", &state))
        rc = sd_strings_push(strings, item);
    free(copy);
    return rc;
}

//  Returns a request id unique across hosts and runs: "cli-<host>-<pid>-<ms>".
static char *s_request_id(void)
{
    char host[128] = "localhost";
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    char *id = NULL;
    if (asprintf(&id, "cli-%s-%ld-%" PRId64, host, (long)getpid(), sd_clock_ms()) < 0)
        return NULL;
    return id;
}

static sd_msg *s_build_request(const s_args *args, int64_t deadline_ms)
{
    sd_msg *msg = sd_msg_new(SD_MSG_REPORT_REQUEST);
    if (!msg)
        return NULL;
    sd_report_request *request = &msg->as.report_request;
    request->request_id = s_request_id();
    request->report = strdup(args->report);
    request->frequency = strdup(args->frequency);
    request->date = strdup(args->date);
    request->delivery_id = strdup("");
    request->yearly_alignment = strdup(args->yearly);
    request->deadline_ms = deadline_ms;
    bool ok = request->request_id && request->report && request->frequency && request->date &&
              request->delivery_id && request->yearly_alignment &&
              s_push_split(&request->sites, args->sites) == 0 &&
              sd_strings_push(&request->formats, args->format) == 0 &&
              (!args->recipients || s_push_split(&request->recipients, args->recipients) == 0);
    if (!ok)
        sd_msg_destroy(&msg);
    return msg;
}

static zmsg_t *s_encode(const sd_msg *msg)
{
    uint8_t *data = NULL;
    size_t size = 0;
    sd_proto_error err;
    if (sd_msg_encode(msg, &data, &size, &err) != 0) {
        fprintf(stderr, "statsdash request: the request could not be encoded: %s: %s\n",
                err.field, err.text);
        return NULL;
    }
    zmsg_t *body = zmsg_new();
    if (body && zmsg_addmem(body, data, size) != 0)
        zmsg_destroy(&body);
    free(data);
    return body;
}

static int s_write_output(const s_args *args, const sd_output *output)
{
    FILE *file = args->output_path ? fopen(args->output_path, "wb") : stdout;
    if (!file) {
        fprintf(stderr, "statsdash request: cannot write the report to %s: %s\n",
                args->output_path, strerror(errno));
        return -1;
    }
    bool ok = fwrite(output->body, 1, output->body_size, file) == output->body_size;
    ok = (file == stdout ? fflush(file) == 0 : fclose(file) == 0) && ok;
    if (!ok)
        fprintf(stderr, "statsdash request: writing the report to %s failed: %s\n",
                args->output_path ? args->output_path : "stdout", strerror(errno));
    return ok ? 0 : -1;
}

//  Writes the report of a report.reply and returns the exit status.
static int s_deliver(const s_args *args, const sd_report_reply *reply)
{
    const sd_output *output = NULL;
    for (size_t i = 0; i < reply->output_count && !output; i++) {
        if (strcmp(reply->outputs[i].format, args->format) == 0)
            output = &reply->outputs[i];
    }
    if (!output) {
        fprintf(stderr, "statsdash request: the reply has no %s output\n", args->format);
        return 1;
    }
    if (s_write_output(args, output) != 0)
        return 1;
    for (size_t i = 0; i < reply->warnings.count; i++)
        fprintf(stderr, "statsdash request: warning: %s\n", reply->warnings.items[i]);
    return strcmp(reply->status, "partial") == 0 ? 2 : 0;
}

//  Decodes the reply body and returns the exit status.
static int s_handle_reply(const s_args *args, zmsg_t *reply)
{
    zframe_t *frame = zmsg_first(reply);
    sd_proto_error err = {0};
    sd_msg *msg = frame ? sd_msg_decode(zframe_data(frame), zframe_size(frame), NULL, &err) : NULL;
    int status = 1;
    if (!msg)
        fprintf(stderr, "statsdash request: invalid reply from the broker: %s: %s\n", err.field,
                err.text);
    else if (msg->type == SD_MSG_ERROR)
        fprintf(stderr, "statsdash request: no report: %s (error %" PRId64 ")\n",
                msg->as.error.text, msg->as.error.code);
    else if (msg->type == SD_MSG_REPORT_REPLY)
        status = s_deliver(args, &msg->as.report_reply);
    else
        fprintf(stderr, "statsdash request: unexpected %s reply from the broker\n",
                sd_msg_type_name(msg->type));
    sd_msg_destroy(&msg);
    return status;
}

//  Sends the request and waits for its reply. Returns the exit status.
static int s_send_and_wait(const s_args *args, const sd_config *config, sd_mdcli *client)
{
    int64_t deadline_ms = sd_clock_ms() + (int64_t)args->timeout_s * 1000;
    sd_msg *request = s_build_request(args, deadline_ms);
    zmsg_t *body = request ? s_encode(request) : NULL;
    sd_msg_destroy(&request);
    if (!body) {
        fprintf(stderr, "statsdash request: out of memory\n");
        return 1;
    }
    int wait_ms = args->timeout_s * 1000 + S_REPLY_GRACE_MS;
    zmsg_t *reply = sd_mdcli_request(client, "report", &body, wait_ms);
    if (!reply) {
        fprintf(stderr, "statsdash request: no reply from the broker at %s within %d s "
                        "(--timeout %d s plus %d s of grace); raise --timeout if the report "
                        "needs longer, or run with -v for details\n",
                config->broker.endpoint, wait_ms / 1000, args->timeout_s,
                S_REPLY_GRACE_MS / 1000);
        return 1;
    }
    int status = s_handle_reply(args, reply);
    zmsg_destroy(&reply);
    return status;
}

//  Probes the broker, then requests the report. Returns the exit status.
static int s_run(const s_args *args, const sd_config *config)
{
    sd_mdcli *client = sd_mdcli_new(config->broker.endpoint, &config->broker);
    if (!client) {
        fprintf(stderr, "statsdash request: cannot connect to the broker at %s\n",
                config->broker.endpoint);
        return 1;
    }
    int probe_ms = args->timeout_s * 1000 < S_PROBE_TIMEOUT_MS ? args->timeout_s * 1000
                                                               : S_PROBE_TIMEOUT_MS;
    int status = 1;
    if (sd_cli_request_probe(client, config, args->config_path, probe_ms) == 0)
        status = s_send_and_wait(args, config, client);
    sd_mdcli_destroy(&client);
    return status;
}

//  Checks the request against the config. Returns 0, or -1 after one line.
static int s_check_against_config(const s_args *args, const sd_config *config)
{
    if (sd_cli_request_check_sites(args->report, args->sites, config, args->config_path) != 0)
        return -1;
    sd_frequency frequency;
    sd_date date;
    if (sd_frequency_parse(args->frequency, &frequency) == 0 &&
        sd_date_parse(args->date, &date) == 0)
        sd_cli_request_warn_open_period(frequency, date, config);
    return 0;
}

int sd_cli_request(int argc, char **argv)
{
    s_args args = {.format = "html", .yearly = "calendar"};
    int parsed = s_parse_options(argc, argv, &args);
    if (parsed != 0)
        return parsed > 0 ? 0 : 1;
    if (s_check_args(&args) != 0)
        return 1;

    //  The client's own retries are details: stderr carries one line per
    //  error unless -v is given.
    sd_log_open("statsdash", args.verbose ? SD_LOG_DEBUG : SD_LOG_ERROR, false);
    sd_config_error err;
    sd_config *config = sd_config_load(args.config_path, &err);
    if (!config) {
        char line[1400];
        fprintf(stderr, "statsdash request: %s\n", sd_config_error_line(&err, line, sizeof line));
        return 1;
    }
    int status = s_check_against_config(&args, config) == 0 ? s_run(&args, config) : 1;
    sd_config_destroy(&config);
    return status;
}
