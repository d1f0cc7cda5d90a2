/*  bench_normalize: throughput and memory of the aggregator's merge.

    Builds the top-articles table of a large network as the GA worker would
    publish it: SITES sites x 3 periods of table.raw parts, ROWS raw rows in
    all. The spec has the article rules: path blacklist, query strings,
    HTML entities, AMP titles and top title. The parts are encoded to msgpack
    before timing starts. Each run then decodes every part with the row
    reader of proto/ (sd_table_raw_decode_rows), stages its rows with
    sd_normalize and merges them, finishes the table and encodes the
    table.normalized message, as the aggregator does for parts arriving on
    the bus.

    Each run happens in a forked child, so that its memory can be measured
    on its own: the growth of the child's peak resident set (VmHWM, reset
    through /proc/self/clear_refs at the start) over its resident set at
    the start. The parent prints the median time, the rows per second and
    the largest growth, against the total size of the encoded parts. Time
    is measured both as wall-clock time and as the child's CPU time. On a
    busy machine the CPU time is the steadier of the two.

    With --decode-only a run only decodes the parts with the row reader
    (the callbacks do nothing), which shows how much of the time decoding
    takes; --decode-messages decodes them with sd_msg_decode into whole
    messages instead, for comparison.

    Usage: bench_normalize [--rows N] [--sites N] [--runs N]
                           [--decode-only | --decode-messages]
*/
#include "sd_normalize.h"
#include "sd_proto.h"

#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SD_BENCH_PERIODS 3

typedef struct {
    size_t rows;
    size_t sites;
    size_t runs;
    bool decode_only;               //  --decode-only: time the row reader alone, for comparison
    bool decode_messages;           //  --decode-messages: time sd_msg_decode alone
} s_options;

typedef struct {
    uint8_t **bodies;
    size_t *sizes;
    size_t count;
    size_t total_bytes;
} s_parts;

//  What one child reports to the parent.
typedef struct {
    double seconds;                 //  wall-clock time
    double cpu_seconds;             //  CPU time of the child (user + system)
    long growth_kib;                //  peak resident set growth, -1 when unknown
    long maxrss_kib;                //  ru_maxrss of the child
    size_t table_bytes;             //  size of the encoded normalized table
    size_t table_rows;
} s_result;

//  ---------------------------------------------------------------------
//  Generating the parts

static uint64_t s_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

static const char *const s_words[] = {
    "council", "budget", "storm", "match", "election", "school", "river", "market",
    "festival", "housing", "police", "hospital", "train", "winter", "record", "museum",
};

//  Writes the path and title of article `article` of a site. About 1 in
//  10 paths carries a query string, 1 in 20 is an AMP page, 1 in 50 is a
//  blacklisted index page, and 1 in 8 titles has an HTML entity.
static void s_article(uint64_t *random, size_t article, char *path, size_t path_size,
                      char *title, size_t title_size)
{
    const char *a = s_words[article % 16];
    const char *b = s_words[(article / 16) % 16];
    uint64_t draw = s_next(random) % 200;
    if (draw < 4)
        snprintf(path, path_size, "/page/%zu/", article % 40);
    else if (draw < 14)
        snprintf(path, path_size, "/2026/11/%s-%s-report-%zu/amp/", a, b, article);
    else if (draw < 34)
        snprintf(path, path_size, "/2026/11/%s-%s-report-%zu/?utm_source=news&id=%" PRIu64, a,
                 b, article, draw);
    else
        snprintf(path, path_size, "/2026/11/%s-%s-report-%zu/", a, b, article);

    if (article % 8 == 0)
        snprintf(title, title_size, "%s &amp; %s: what we know about report %zu | News", a, b,
                 article);
    else
        snprintf(title, title_size, "The %s and %s report number %zu, explained | News", a, b,
                 article);
}

static void s_fill_spec(sd_table_spec *spec)
{
    static const char *const blacklist[] = {"pagePath", "^/$", "^/page/[0-9]+/?$", "^/\\?",
                                            "^/forum", "^/login\\.php", "^/cookies\\.php"};
    memset(spec, 0, sizeof *spec);
    int rc = sd_strings_push(&spec->keys, "site") | sd_strings_push(&spec->keys, "pagePath")
             | sd_strings_push(&spec->keys, "pageTitle")
             | sd_strings_push(&spec->sum, "screenPageViews")
             | sd_strings_push(&spec->compare, "previous") | sd_strings_push(&spec->compare, "yearly");
    spec->derived = calloc(1, sizeof *spec->derived);
    spec->sort = calloc(1, sizeof *spec->sort);
    spec->rules = calloc(5, sizeof *spec->rules);
    if (rc != 0 || !spec->derived || !spec->sort || !spec->rules)
        abort();
    spec->derived[0] = (sd_derived){strdup("pageviews"), strdup("scale"), strdup("screenPageViews"),
                                    strdup(""), 1.0, strdup("count")};
    spec->derived_count = 1;
    spec->sort[0] = (sd_sort_key){strdup("pageviews"), true};
    spec->sort_count = 1;
    spec->limit = 20;

    static const char *const rules[][4] = {{"strip_query", "pagePath", NULL, NULL},
                                           {"decode_entities", "pageTitle", NULL, NULL},
                                           {"amp_title", "pagePath", "pageTitle", NULL},
                                           {"top_title", "pagePath", "pageTitle", "screenPageViews"}};
    spec->rules[0].name = strdup("path_blacklist");
    for (size_t i = 0; i < sizeof blacklist / sizeof blacklist[0]; i++)
        rc |= sd_strings_push(&spec->rules[0].args, blacklist[i]);
    for (size_t r = 0; r < 4; r++) {
        spec->rules[r + 1].name = strdup(rules[r][0]);
        for (size_t a = 1; a < 4 && rules[r][a]; a++)
            rc |= sd_strings_push(&spec->rules[r + 1].args, rules[r][a]);
    }
    spec->rule_count = 5;
    if (rc != 0)
        abort();
}

//  Fills the rows of one part. Periods share most articles: the previous
//  period starts a quarter of the rows later, the yearly one is other
//  articles entirely.
static void s_fill_rows(uint64_t *random, sd_table_data *data, size_t rows, size_t period)
{
    static const sd_column columns[] = {{"pagePath", SD_COLUMN_DIMENSION, ""},
                                        {"pageTitle", SD_COLUMN_DIMENSION, ""},
                                        {"screenPageViews", SD_COLUMN_METRIC, "count"}};
    if (sd_table_data_init(data, columns, 3, rows) != 0)
        abort();
    size_t first = 0;
    if (period == 1)
        first = rows / 4;
    else if (period == 2)
        first = 10 * rows;
    for (size_t r = 0; r < rows; r++) {
        char path[160];
        char title[200];
        s_article(random, first + r, path, sizeof path, title, sizeof title);
        sd_value *cells = sd_table_data_append_row(data);
        if (!cells || sd_value_set_string(&cells[0], path, strlen(path)) != 0
            || sd_value_set_string(&cells[1], title, strlen(title)) != 0)
            abort();
        cells[2].kind = SD_VALUE_INT;
        cells[2].as.i = (int64_t)(s_next(random) % 5000);
    }
}

static int s_build_parts(const s_options *options, s_parts *parts)
{
    static const char *const labels[] = {"current", "previous", "yearly"};
    static const char *const dates[] = {"2026-11-30", "2026-10-31", "2025-11-30"};
    uint64_t random = 0x2545f4914f6cdd1dull;
    size_t count = options->sites * SD_BENCH_PERIODS;
    parts->bodies = calloc(count, sizeof *parts->bodies);
    parts->sizes = calloc(count, sizeof *parts->sizes);
    if (!parts->bodies || !parts->sizes)
        return -1;
    for (size_t i = 0; i < count; i++) {
        size_t site = i / SD_BENCH_PERIODS;
        size_t period = i % SD_BENCH_PERIODS;
        size_t rows = options->rows / count + (i < options->rows % count ? 1 : 0);
        char site_name[32];
        char part_id[64];
        snprintf(site_name, sizeof site_name, "site%02zu", site);
        snprintf(part_id, sizeof part_id, "%s/%s", site_name, labels[period]);

        sd_msg *msg = sd_msg_new(SD_MSG_TABLE_RAW);
        if (!msg)
            return -1;
        sd_table_raw *raw = &msg->as.table_raw;
        raw->request_id = strdup("bench");
        raw->reporter_id = strdup("reporter-1");
        raw->job_id = strdup(site_name);
        raw->table_id = strdup("top_articles");
        raw->part_id = strdup(part_id);
        raw->site = strdup(site_name);
        raw->period = (sd_period){strdup(labels[period]), strdup(dates[period]),
                                  strdup(dates[period])};
        raw->expected_parts = (int64_t)count;
        raw->deadline_ms = 0;
        s_fill_spec(&raw->spec);
        s_fill_rows(&random, &raw->data, rows, period);

        sd_proto_error err;
        int rc = sd_msg_encode(msg, &parts->bodies[i], &parts->sizes[i], &err);
        sd_msg_destroy(&msg);
        if (rc != 0) {
            fprintf(stderr, "bench_normalize: encoding part %zu failed: %s: %s\n", i, err.field,
                    err.text);
            return -1;
        }
        parts->total_bytes += parts->sizes[i];
        parts->count++;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  One run

static double s_clock(clockid_t clock)
{
    struct timespec now;
    clock_gettime(clock, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

//  Returns the value in kB of a "Name:   123 kB" line of /proc/self/status,
//  or -1.
static long s_status_kib(const char *name)
{
    FILE *file = fopen("/proc/self/status", "r");
    if (!file)
        return -1;
    char line[256];
    long value = -1;
    size_t len = strlen(name);
    while (fgets(line, sizeof line, file)) {
        if (strncmp(line, name, len) == 0 && line[len] == ':')
            value = strtol(line + len + 1, NULL, 10);
    }
    fclose(file);
    return value;
}

//  Resets VmHWM to the current resident set. Returns 0 or -1.
static int s_reset_peak(void)
{
    FILE *file = fopen("/proc/self/clear_refs", "w");
    if (!file)
        return -1;
    int rc = fputs("5", file) >= 0 ? 0 : -1;
    return fclose(file) == 0 ? rc : -1;
}

static int s_ignore_header(void *arg, const sd_table_raw *part, size_t row_count)
{
    (void)arg;
    (void)part;
    (void)row_count;
    return 0;
}

static int s_ignore_row(void *arg, const sd_value *cells, size_t column_count)
{
    (void)arg;
    (void)cells;
    (void)column_count;
    return 0;
}

//  Decodes every part, with the row reader the merge uses or, with
//  messages set, into messages that are freed again. Returns 0 or -1.
static int s_run_decode(const s_parts *parts, bool messages)
{
    for (size_t i = 0; i < parts->count; i++) {
        sd_proto_error err;
        if (!messages) {
            if (sd_table_raw_decode_rows(parts->bodies[i], parts->sizes[i], NULL, s_ignore_header,
                                         s_ignore_row, NULL, &err) != 0)
                return -1;
            continue;
        }
        sd_msg *msg = sd_msg_decode(parts->bodies[i], parts->sizes[i], NULL, &err);
        if (!msg)
            return -1;
        sd_msg_destroy(&msg);
    }
    return 0;
}

//  Creates the table's state from its first part and starts each part,
//  as the aggregator does for a part arriving on the bus.
static int s_on_header(void *arg, const sd_table_raw *part, size_t row_count)
{
    sd_normalize **state = arg;
    if (!*state)
        *state = sd_normalize_new(part);
    if (!*state || sd_normalize_begin(*state, part, row_count) != SD_NORMALIZE_ADDED)
        return -1;
    return 0;
}

static int s_on_row(void *arg, const sd_value *cells, size_t column_count)
{
    (void)column_count;
    sd_normalize **state = arg;
    return sd_normalize_stage_row(*state, cells);
}

//  Decodes, merges and finishes the table. Returns 0 or -1.
static int s_run(const s_parts *parts, s_result *result)
{
    sd_normalize *state = NULL;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < parts->count; i++) {
        sd_proto_error err;
        if (sd_table_raw_decode_rows(parts->bodies[i], parts->sizes[i], NULL, s_on_header,
                                     s_on_row, &state, &err) != 0) {
            fprintf(stderr, "bench_normalize: decoding part %zu failed: %s: %s\n", i, err.field,
                    err.text);
            rc = -1;
        }
        else if (sd_normalize_commit(state, NULL, 0) != SD_NORMALIZE_ADDED)
            rc = -1;
    }

    sd_msg *table = rc == 0 ? sd_normalize_finish(state) : NULL;
    uint8_t *body = NULL;
    sd_proto_error err;
    if (!table || sd_msg_encode(table, &body, &result->table_bytes, &err) != 0)
        rc = -1;
    if (table)
        result->table_rows = table->as.table_normalized.data.row_count;
    free(body);
    sd_msg_destroy(&table);
    sd_normalize_destroy(&state);
    return rc;
}

//  Runs once in a forked child and reads its result. Returns 0 or -1.
static int s_run_child(const s_parts *parts, const s_options *options, s_result *result)
{
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0)
        return -1;
    pid_t child = fork();
    if (child < 0)
        return -1;
    if (child == 0) {
        close(pipe_fds[0]);
        s_result measured = {0};
        long start_kib = s_status_kib("VmRSS");
        bool peak_reset = s_reset_peak() == 0;
        double start = s_clock(CLOCK_MONOTONIC);
        double cpu_start = s_clock(CLOCK_PROCESS_CPUTIME_ID);
        int rc = options->decode_only || options->decode_messages
                     ? s_run_decode(parts, options->decode_messages)
                     : s_run(parts, &measured);
        measured.seconds = s_clock(CLOCK_MONOTONIC) - start;
        measured.cpu_seconds = s_clock(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
        long peak_kib = s_status_kib("VmHWM");
        measured.growth_kib = peak_reset && start_kib >= 0 && peak_kib >= 0 ? peak_kib - start_kib
                                                                            : -1;
        struct rusage usage;
        getrusage(RUSAGE_SELF, &usage);
        measured.maxrss_kib = usage.ru_maxrss;
        ssize_t written = write(pipe_fds[1], &measured, sizeof measured);
        _exit(rc == 0 && written == (ssize_t)sizeof measured ? 0 : 1);
    }
    close(pipe_fds[1]);
    ssize_t got = read(pipe_fds[0], result, sizeof *result);
    close(pipe_fds[0]);
    int status = 0;
    waitpid(child, &status, 0);
    return got == (ssize_t)sizeof *result && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0
                                                                                          : -1;
}

//  ---------------------------------------------------------------------
//  Main

static int s_compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

static int s_parse(int argc, char *argv[], s_options *options)
{
    *options = (s_options){1000000, 50, 5, false, false};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--decode-only") == 0) {
            options->decode_only = true;
            continue;
        }
        if (strcmp(argv[i], "--decode-messages") == 0) {
            options->decode_messages = true;
            continue;
        }
        size_t *target = strcmp(argv[i], "--rows") == 0    ? &options->rows
                         : strcmp(argv[i], "--sites") == 0 ? &options->sites
                         : strcmp(argv[i], "--runs") == 0  ? &options->runs
                                                           : NULL;
        char *end = NULL;
        if (!target || i + 1 >= argc || (*target = strtoull(argv[++i], &end, 10)) == 0 || *end) {
            fprintf(stderr, "usage: bench_normalize [--rows N] [--sites N] [--runs N] "
                            "[--decode-only | --decode-messages] (every N a positive "
                            "integer)\n");
            return -1;
        }
    }
    return 0;
}

int main(int argc, char *argv[])
{
    s_options options;
    if (s_parse(argc, argv, &options) != 0)
        return 2;
    s_parts parts = {0};
    if (s_build_parts(&options, &parts) != 0)
        return 1;
    malloc_trim(0);

    double *seconds = calloc(options.runs, sizeof *seconds);
    double *cpu_seconds = calloc(options.runs, sizeof *cpu_seconds);
    long growth_kib = -1;
    long maxrss_kib = 0;
    s_result result = {0};
    for (size_t r = 0; seconds && cpu_seconds && r < options.runs; r++) {
        if (s_run_child(&parts, &options, &result) != 0) {
            fprintf(stderr, "bench_normalize: run %zu failed\n", r + 1);
            return 1;
        }
        seconds[r] = result.seconds;
        cpu_seconds[r] = result.cpu_seconds;
        growth_kib = result.growth_kib > growth_kib ? result.growth_kib : growth_kib;
        maxrss_kib = result.maxrss_kib > maxrss_kib ? result.maxrss_kib : maxrss_kib;
        printf("run %zu: %.3f s wall, %.3f s CPU\n", r + 1, result.seconds, result.cpu_seconds);
    }
    if (!seconds || !cpu_seconds)
        return 1;
    qsort(seconds, options.runs, sizeof *seconds, s_compare_doubles);
    qsort(cpu_seconds, options.runs, sizeof *cpu_seconds, s_compare_doubles);
    double median = seconds[options.runs / 2];
    double cpu_median = cpu_seconds[options.runs / 2];
    double parts_mib = (double)parts.total_bytes / 1048576.0;
    printf("rows %zu, sites %zu, parts %zu, msgpack parts %.1f MiB, normalized table %zu rows "
           "(%zu bytes)\n",
           options.rows, options.sites, parts.count, parts_mib, result.table_rows,
           result.table_bytes);
    printf("median over %zu runs: %.3f s wall (%.0f rows/s), %.3f s CPU (%.0f rows/s)\n",
           options.runs, median, (double)options.rows / median, cpu_median,
           (double)options.rows / cpu_median);
    printf("peak memory growth %.1f MiB (%.2f x the msgpack parts); ru_maxrss %.1f MiB\n",
           (double)growth_kib / 1024.0, (double)growth_kib * 1024.0 / (double)parts.total_bytes,
           (double)maxrss_kib / 1024.0);

    for (size_t i = 0; i < parts.count; i++)
        free(parts.bodies[i]);
    free(parts.bodies);
    free(parts.sizes);
    free(seconds);
    free(cpu_seconds);
    return 0;
}
