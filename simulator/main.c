/*  statsdash-simulator: an HTTP server that speaks Google's OAuth, GA4
    Data API, YouTube Analytics API and YouTube Data API wire formats over a
    dataset folder, for tests, benchmarks and the demo.
*/
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_log.h"
#include "sim_clock.h"
#include "sim_dataset.h"
#include "sim_faults.h"
#include "sim_ga4.h"
#include "sim_http.h"
#include "sim_oauth.h"
#include "sim_stats.h"
#include "sim_youtube.h"
#include "sim_youtube_auth.h"

#define SIM_NAME "statsdash-simulator"
#define SIM_DEFAULT_CONTENT_OWNER "sampleOwner01"
#define SIM_DEFAULT_CLIENT_ID "statsdash-simulator.apps.googleusercontent.com"
#define SIM_DEFAULT_CLIENT_SECRET "simulator-client-secret"

typedef struct {
    const char *dataset;
    const char *listen;
    const char *public_key;
    const char *port_file;
    const char *config;
    const char *youtube_user_channel;
    const char *youtube_content_owner;
    const char *youtube_client_id;
    const char *youtube_client_secret;
    const char *fail_rules[16];
    size_t fail_count;
    const char *ga_metadata[16];
    size_t ga_metadata_count;
    int64_t ga_tokens_per_day;
    int64_t ga_tokens_per_hour;
    int latency_ms;
    int token_lifetime;
    uint64_t seed;
    sd_log_level log_level;
} s_options;

//  Everything the running simulator owns, freed in reverse order.
typedef struct {
    sim_dataset *dataset;
    sim_faults *faults;
    sim_stats *stats;
    sim_oauth *oauth;
    sim_ga4 *ga4;
    sim_youtube_auth *youtube_auth;
    sim_youtube *youtube;
    sim_server *server;
} s_simulator;

static void s_usage(FILE *out)
{
    fprintf(out,
        "Usage: " SIM_NAME " --dataset DIR [--listen HOST:PORT] [options]\n"
        "Serves Google's OAuth endpoints, the GA4 Data API v1beta, the YouTube Analytics\n"
        "API v2 and the YouTube Data API v3 over a dataset.\n"
        "\n"
        "  --dataset DIR          folder with ga4-facts.csv and the youtube-*.csv files\n"
        "                         (scripts/generate-dataset writes one)\n"
        "  --listen HOST:PORT     address to listen on (default 127.0.0.1:0; port 0 picks a\n"
        "                         free port)\n"
        "  --port-file FILE       write the listening port and a newline to FILE once the\n"
        "                         server accepts requests (written whole, by rename)\n"
        "  --public-key FILE      PEM RSA public key that JWT assertions must be signed with;\n"
        "                         without it, signatures are not checked\n"
        "  --token-lifetime SECS  lifetime of issued access tokens (default 3599)\n"
        "  --latency-ms N         delay every API response by N milliseconds (default 0)\n"
        "  --fail CODE:FRACTION   fail that fraction of data API requests with HTTP CODE\n"
        "                         (400-599; 429 carries Retry-After: 1) or, for CODE\n"
        "                         \"truncated\", cut the body in half and close the\n"
        "                         connection; or for \"html\", send a 200 with an HTML page;\n"
        "                         repeatable, fractions add up to at most 1\n"
        "  --fail CODE:burst:N    fail the first N data API requests of each property or\n"
        "                         channel with CODE (same codes), before any draw\n"
        "  --seed N               seed of the fault draws (default 1)\n"
        "  --ga-tokens-per-day N, --ga-tokens-per-hour N  GA4 quota of each property in\n"
        "                         tokens (defaults 200000 and 40000); a report costs 1\n"
        "                         token plus 1 per 10000 rows; spent quota gives 429\n"
        "  --ga-metadata FIELD:PROPERTY  set a metadata field on the reports of a property\n"
        "                         (an id or \"all\"): FIELD sampled (samplingMetadatas),\n"
        "                         thresholded (subjectToThresholding) or other-row\n"
        "                         (dataLossFromOtherRow); repeatable\n"
        "  --youtube-user-channel ID  channel that the user of the authorization page\n"
        "                         owns (default: none, so authorization is denied)\n"
        "  --youtube-content-owner ID  content owner that owns every channel of the\n"
        "                         dataset (default " SIM_DEFAULT_CONTENT_OWNER ")\n"
        "  --youtube-client-id ID, --youtube-client-secret TEXT  the OAuth client that\n"
        "                         the user flow accepts (defaults " SIM_DEFAULT_CLIENT_ID "\n"
        "                         and " SIM_DEFAULT_CLIENT_SECRET ")\n"
        "  -c FILE                Statsdash config; only log.level is read\n"
        "  --log-level LEVEL      debug, info, warning or error (default info)\n"
        "  --help, --version\n"
        "\n"
        "Endpoints: POST /token, POST /v1beta/properties/ID:runReport and :batchRunReports,\n"
        "GET /v2/reports, GET /youtube/v3/channels and /youtube/v3/videos,\n"
        "GET /o/oauth2/auth, POST /revoke, POST /sim/youtube/refresh-token (mints a refresh\n"
        "token for a channel, for tests), GET /healthz, GET /stats (request counts and quota\n"
        "as JSON).\n"
        "STATSDASH_NOW (ISO 8601, e.g. 2026-12-02T18:00:00Z) sets \"now\" for relative dates\n"
        "and the data cut-off; token lifetimes use the real clock.\n");
}

//  Parses a whole decimal number in [minimum, maximum].
static int s_parse_number(const char *text, long long minimum, long long maximum,
                          long long *value)
{
    char *end;
    errno = 0;
    long long parsed = strtoll(text, &end, 10);
    if (errno || end == text || *end || parsed < minimum || parsed > maximum)
        return -1;
    *value = parsed;
    return 0;
}

static int s_read_config(const char *path, sd_log_level *level)
{
    json_error_t error;
    json_t *config = json_load_file(path, 0, &error);
    if (!config) {
        fprintf(stderr, SIM_NAME ": cannot read config %s: %s (line %d)\n", path, error.text,
                error.line);
        return -1;
    }
    const char *text = json_string_value(json_object_get(json_object_get(config, "log"),
                                                         "level"));
    int rc = 0;
    if (text && sd_log_level_parse(text, level) != 0) {
        fprintf(stderr, SIM_NAME ": invalid log.level \"%s\" in %s: expected debug, info, "
                "warning or error\n", text, path);
        rc = -1;
    }
    json_decref(config);
    return rc;
}

//  Handles one option. Returns 0, 1 to exit successfully (--help,
//  --version) or -1 for a bad value.
static int s_apply_option(int option, const char *value, s_options *options, bool *level_set)
{
    long long number;
    switch (option) {
    case 'd': options->dataset = value; return 0;
    case 'l': options->listen = value; return 0;
    case 'k': options->public_key = value; return 0;
    case 'p': options->port_file = value; return 0;
    case 'c': options->config = value; return 0;
    case 'U': options->youtube_user_channel = value; return 0;
    case 'O': options->youtube_content_owner = value; return 0;
    case 'I': options->youtube_client_id = value; return 0;
    case 'S': options->youtube_client_secret = value; return 0;
    case 'L':
        if (s_parse_number(value, 0, 600000, &number) != 0)
            break;
        options->latency_ms = (int)number;
        return 0;
    case 'T':
        if (s_parse_number(value, 1, 86400, &number) != 0)
            break;
        options->token_lifetime = (int)number;
        return 0;
    case 's':
        if (s_parse_number(value, 0, INT64_MAX, &number) != 0)
            break;
        options->seed = (uint64_t)number;
        return 0;
    case 'f':
        if (options->fail_count == sizeof options->fail_rules / sizeof options->fail_rules[0])
            break;
        options->fail_rules[options->fail_count++] = value;
        return 0;
    case 'M':
        if (options->ga_metadata_count
            == sizeof options->ga_metadata / sizeof options->ga_metadata[0])
            break;
        options->ga_metadata[options->ga_metadata_count++] = value;
        return 0;
    case 'D':
    case 'H':
        if (s_parse_number(value, 1, INT64_MAX, &number) != 0)
            break;
        *(option == 'D' ? &options->ga_tokens_per_day : &options->ga_tokens_per_hour) = number;
        return 0;
    case 'v':
        if (sd_log_level_parse(value, &options->log_level) != 0)
            break;
        *level_set = true;
        return 0;
    case 'h': s_usage(stdout); return 1;
    case 'V': printf(SIM_NAME " %s\n", STATSDASH_VERSION); return 1;
    default: s_usage(stderr); return -1;
    }
    fprintf(stderr, SIM_NAME ": invalid value \"%s\" for an option; see --help\n", value);
    return -1;
}

static int s_parse_options(int argc, char **argv, s_options *options)
{
    static const struct option long_options[] = {
        {"dataset", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"public-key", required_argument, NULL, 'k'},
        {"port-file", required_argument, NULL, 'p'},
        {"latency-ms", required_argument, NULL, 'L'},
        {"token-lifetime", required_argument, NULL, 'T'},
        {"fail", required_argument, NULL, 'f'},
        {"seed", required_argument, NULL, 's'},
        {"ga-metadata", required_argument, NULL, 'M'},
        {"ga-tokens-per-day", required_argument, NULL, 'D'},
        {"ga-tokens-per-hour", required_argument, NULL, 'H'},
        {"log-level", required_argument, NULL, 'v'},
        {"youtube-user-channel", required_argument, NULL, 'U'},
        {"youtube-content-owner", required_argument, NULL, 'O'},
        {"youtube-client-id", required_argument, NULL, 'I'},
        {"youtube-client-secret", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    bool level_set = false;
    sd_log_level level = SD_LOG_INFO;
    int option;
    while ((option = getopt_long(argc, argv, "c:", long_options, NULL)) != -1) {
        int rc = s_apply_option(option, optarg, options, &level_set);
        if (rc != 0)
            return rc;
    }
    if (optind < argc) {
        fprintf(stderr, SIM_NAME ": unexpected argument \"%s\"; see --help\n", argv[optind]);
        return -1;
    }
    if (!options->dataset) {
        fprintf(stderr, SIM_NAME ": --dataset DIR is required; see --help\n");
        return -1;
    }
    //  The command line's --log-level wins over the config file's log.level.
    if (options->config && s_read_config(options->config, &level) != 0)
        return -1;
    if (!level_set)
        options->log_level = level;
    return 0;
}

static int s_write_port_file(const char *path, unsigned port)
{
    char temporary[4096];
    snprintf(temporary, sizeof temporary, "%s.tmp", path);
    FILE *file = fopen(temporary, "w");
    if (!file)
        return -1;
    int written = fprintf(file, "%u\n", port);
    if (fclose(file) != 0 || written < 0 || rename(temporary, path) != 0) {
        remove(temporary);
        return -1;
    }
    return 0;
}

static void s_simulator_destroy(s_simulator *simulator)
{
    sim_server_destroy(&simulator->server);
    sim_youtube_destroy(&simulator->youtube);
    sim_youtube_auth_destroy(&simulator->youtube_auth);
    sim_ga4_destroy(&simulator->ga4);
    sim_oauth_destroy(&simulator->oauth);
    sim_stats_destroy(&simulator->stats);
    sim_faults_destroy(&simulator->faults);
    sim_dataset_destroy(&simulator->dataset);
}

static int s_build_youtube(s_simulator *simulator, const s_options *options)
{
    const sim_youtube_data *data = sim_dataset_youtube(simulator->dataset);
    sim_youtube_auth_options auth = {options->youtube_client_id, options->youtube_client_secret,
                                     options->youtube_user_channel};
    simulator->youtube_auth = sim_youtube_auth_new(simulator->oauth, data, &auth);
    simulator->youtube = sim_youtube_new(data, simulator->oauth, simulator->stats,
                                         options->youtube_content_owner);
    return simulator->youtube_auth && simulator->youtube ? 0 : -1;
}

//  Builds the fault rules, the APIs and the server. Returns 0 or -1 after
//  logging why.
static int s_simulator_build(s_simulator *simulator, const s_options *options)
{
    char error[1024] = "out of memory";
    simulator->faults = sim_faults_new(options->seed);
    for (size_t i = 0; simulator->faults && i < options->fail_count; i++)
        if (sim_faults_add(simulator->faults, options->fail_rules[i], error, sizeof error) != 0)
            goto fail;
    simulator->stats = sim_stats_new();
    if (!simulator->faults || !simulator->stats)
        goto fail;
    simulator->oauth = sim_oauth_new(options->public_key, options->token_lifetime, error,
                                     sizeof error);
    if (!simulator->oauth)
        goto fail;
    sim_oauth_set_stats(simulator->oauth, simulator->stats);
    snprintf(error, sizeof error, "out of memory");
    simulator->ga4 = sim_ga4_new(simulator->dataset, simulator->oauth, options->ga_tokens_per_day,
                                 options->ga_tokens_per_hour);
    if (!simulator->ga4 || s_build_youtube(simulator, options) != 0)
        goto fail;
    for (size_t i = 0; i < options->ga_metadata_count; i++)
        if (sim_ga4_add_metadata(simulator->ga4, options->ga_metadata[i], error,
                                 sizeof error) != 0)
            goto fail;
    simulator->server = sim_server_new(options->listen, options->latency_ms, simulator->faults,
                                       simulator->stats, error, sizeof error);
    if (!simulator->server)
        goto fail;
    snprintf(error, sizeof error, "cannot register routes");
    if (sim_oauth_register(simulator->oauth, simulator->server) != 0
        || sim_ga4_register(simulator->ga4, simulator->server) != 0
        || sim_youtube_auth_register(simulator->youtube_auth, simulator->server) != 0
        || sim_youtube_register(simulator->youtube, simulator->server) != 0)
        goto fail;
    return 0;
fail:
    sd_error("cannot start: %s", error);
    return -1;
}

//  Makes every thread allocate from glibc's main arena. libmicrohttpd runs
//  one thread per connection here, and glibc (2.36) spreads threads over
//  many arenas, each keeping the freed blocks of large JSON responses. In
//  bench/soak/run (200 reports, 2 cores) that grew the simulator's RSS by
//  about 11 MiB. AddressSanitizer replaces the allocator, so there this
//  call changes nothing.
static void s_limit_malloc_arenas(void)
{
    if (mallopt(M_ARENA_MAX, 1) != 1)
        sd_debug("mallopt M_ARENA_MAX failed, so threads keep their own arenas");
}

//  Blocks SIGINT and SIGTERM in every thread (libmicrohttpd's threads
//  inherit the mask) so that only sigwait in main receives them.
static void s_block_signals(sigset_t *signals)
{
    sigemptyset(signals);
    sigaddset(signals, SIGINT);
    sigaddset(signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, signals, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int s_load(s_simulator *simulator, const s_options *options)
{
    char error[1024];
    simulator->dataset = sim_dataset_load(options->dataset, error, sizeof error);
    if (!simulator->dataset) {
        sd_error("cannot load dataset: %s", error);
        return -1;
    }
    const sim_youtube_data *youtube = sim_dataset_youtube(simulator->dataset);
    sd_info("dataset loaded dir=%s ga4_rows=%zu ga4_properties=%zu youtube_rows=%zu "
            "youtube_channels=%zu", options->dataset,
            sim_dataset_ga4_row_count(simulator->dataset),
            sim_dataset_ga4_property_count(simulator->dataset),
            sim_youtube_data_row_count(youtube), sim_youtube_data_channel_count(youtube));
    return 0;
}

static int s_serve(s_simulator *simulator, const s_options *options)
{
    char error[1024];
    if (sim_server_start(simulator->server, error, sizeof error) != 0) {
        sd_error("cannot start: %s listen=%s", error, options->listen);
        return -1;
    }
    unsigned port = sim_server_port(simulator->server);
    if (options->port_file && s_write_port_file(options->port_file, port) != 0) {
        sd_error("cannot write port file %s: %s", options->port_file, strerror(errno));
        return -1;
    }
    sd_info("listening listen=%s port=%u latency_ms=%d faults=%zu signatures=%s", options->listen,
            port, options->latency_ms, options->fail_count,
            options->public_key ? "checked" : "not checked");
    return 0;
}

int main(int argc, char **argv)
{
    s_options options = {.listen = "127.0.0.1:0", .token_lifetime = 3599, .seed = 1,
                         .log_level = SD_LOG_INFO,
                         .youtube_content_owner = SIM_DEFAULT_CONTENT_OWNER,
                         .youtube_client_id = SIM_DEFAULT_CLIENT_ID,
                         .youtube_client_secret = SIM_DEFAULT_CLIENT_SECRET};
    int rc = s_parse_options(argc, argv, &options);
    if (rc != 0)
        return rc > 0 ? 0 : 1;
    sd_log_open(SIM_NAME, options.log_level, false);
    if (sim_clock_init() != 0) {
        sd_error("invalid STATSDASH_NOW \"%s\": expected ISO 8601 such as 2026-12-02T18:00:00Z",
                 getenv("STATSDASH_NOW"));
        return 1;
    }
    if (!options.public_key)
        sd_warning("no --public-key: JWT signatures will not be checked");

    s_limit_malloc_arenas();
    sigset_t signals;
    s_block_signals(&signals);
    s_simulator simulator = {0};
    rc = 1;
    if (s_load(&simulator, &options) == 0 && s_simulator_build(&simulator, &options) == 0
        && s_serve(&simulator, &options) == 0) {
        int received = 0;
        sigwait(&signals, &received);
        sd_info("stopping signal=%d", received);
        rc = 0;
    }
    s_simulator_destroy(&simulator);
    sd_log_close();
    return rc;
}
