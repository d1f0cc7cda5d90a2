/*  sd_plan: turns a report.request into tables and fetch jobs.  */
#include "sd_plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_log.h"

static const char *const s_formats[] = {"html", "json", "csv"};

static void s_fail(sd_plan_error *err, int code, const char *field, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static void s_fail(sd_plan_error *err, int code, const char *field, const char *format, ...)
{
    err->code = code;
    snprintf(err->field, sizeof err->field, "%s", field);
    va_list args;
    va_start(args, format);
    vsnprintf(err->text, sizeof err->text, format, args);
    va_end(args);
}

static bool s_format_known(const char *format)
{
    for (size_t i = 0; i < sizeof s_formats / sizeof s_formats[0]; i++) {
        if (strcmp(s_formats[i], format) == 0)
            return true;
    }
    return false;
}

int sd_plan_check_request(const sd_report_request *request, sd_plan_error *err)
{
    sd_frequency frequency;
    sd_date date;
    if (!request->frequency || sd_frequency_parse(request->frequency, &frequency) != 0) {
        s_fail(err, SD_ERROR_BAD_REQUEST, "frequency",
               "invalid frequency \"%s\"; expected DAILY, WOW_DAILY, WEEKLY or MONTHLY",
               request->frequency ? request->frequency : "");
        return -1;
    }
    if (!request->date || sd_date_parse(request->date, &date) != 0) {
        s_fail(err, SD_ERROR_BAD_REQUEST, "date",
               "invalid date \"%s\"; expected a calendar date as YYYY-MM-DD",
               request->date ? request->date : "");
        return -1;
    }
    const char *alignment = request->yearly_alignment ? request->yearly_alignment : "";
    if (*alignment && strcmp(alignment, "calendar") != 0 && strcmp(alignment, "weekday") != 0) {
        s_fail(err, SD_ERROR_BAD_REQUEST, "yearly_alignment",
               "invalid yearly_alignment \"%s\"; expected calendar or weekday", alignment);
        return -1;
    }
    for (size_t i = 0; i < request->formats.count; i++) {
        if (!s_format_known(request->formats.items[i])) {
            char field[32];
            snprintf(field, sizeof field, "formats[%zu]", i);
            s_fail(err, SD_ERROR_BAD_REQUEST, field,
                   "invalid format \"%s\"; expected html, json or csv", request->formats.items[i]);
            return -1;
        }
    }
    return 0;
}

//  Returns true when name is a configured site (ga) or channel (youtube).
static bool s_site_exists(const sd_config *config, const char *service, const char *name)
{
    if (strcmp(service, "youtube") == 0)
        return sd_config_find_channel(config, name) != NULL;
    return sd_config_find_site(config, name) != NULL;
}

static bool s_strings_contain(const sd_strings *strings, const char *text)
{
    for (size_t i = 0; i < strings->count; i++) {
        if (strcmp(strings->items[i], text) == 0)
            return true;
    }
    return false;
}

//  Pushes every configured site or channel of the service, in config order.
static int s_push_all_sites(sd_plan *plan, const sd_config *config, const char *service)
{
    bool youtube = strcmp(service, "youtube") == 0;
    size_t count = youtube ? config->youtube.channel_count : config->ga.site_count;
    for (size_t i = 0; i < count; i++) {
        const char *name = youtube ? config->youtube.channels[i].name : config->ga.sites[i].name;
        if (sd_strings_push(&plan->sites, name) != 0)
            return -1;
    }
    return 0;
}

static int s_resolve_sites(sd_plan *plan, const sd_report_request *request,
                           const sd_config *config, sd_plan_error *err)
{
    const char *service = plan->report->service;
    const sd_strings *wanted = &request->sites;
    bool all = wanted->count == 1 && strcmp(wanted->items[0], "all") == 0;
    if (all) {
        if (s_push_all_sites(plan, config, service) != 0)
            goto oom;
    }
    for (size_t i = 0; !all && i < wanted->count; i++) {
        const char *name = wanted->items[i];
        char field[32];
        snprintf(field, sizeof field, "sites[%zu]", i);
        if (!s_site_exists(config, service, name)) {
            s_fail(err, SD_ERROR_NOT_FOUND, field, "unknown %s \"%s\"; check the %s of %s",
                   strcmp(service, "youtube") == 0 ? "channel" : "site", name,
                   strcmp(service, "youtube") == 0 ? "youtube.channels" : "ga.sites",
                   config->path ? config->path : "the config");
            return -1;
        }
        if (!s_strings_contain(&plan->sites, name) && sd_strings_push(&plan->sites, name) != 0)
            goto oom;
    }
    if (plan->sites.count == 0) {
        s_fail(err, SD_ERROR_BAD_REQUEST, "sites",
               "no sites to report on; name sites or \"all\" with sites in the config");
        return -1;
    }
    return 0;
oom:
    s_fail(err, SD_ERROR_INTERNAL, "", "out of memory while planning");
    return -1;
}

static void s_compute_periods(sd_plan *plan, const sd_report_request *request)
{
    sd_date date;
    sd_date_parse(request->date, &date);
    sd_frequency_parse(request->frequency, &plan->frequency);
    bool weekday = request->yearly_alignment && strcmp(request->yearly_alignment, "weekday") == 0;
    sd_report_periods_compute(plan->frequency, date, weekday, &plan->periods);
}

static char *s_join(const char *a, const char *separator, const char *b)
{
    size_t size = strlen(a) + strlen(separator) + strlen(b) + 1;
    char *text = malloc(size);
    if (text)
        snprintf(text, size, "%s%s%s", a, separator, b);
    return text;
}

static int s_make_subject(sd_plan *plan)
{
    char period[96];
    sd_period_describe(plan->frequency, &plan->periods.current, period, sizeof period);
    char prefix[96];
    snprintf(prefix, sizeof prefix, "Statsdash %s", plan->report->name);
    plan->subject = s_join(prefix, ": ", period);
    return plan->subject ? 0 : -1;
}

static int s_plan_tables(sd_plan *plan)
{
    size_t count = 0;
    while (count < SD_CATALOG_MAX_ITEMS && plan->report->tables[count])
        count++;
    plan->tables = calloc(count ? count : 1, sizeof *plan->tables);
    if (!plan->tables)
        return -1;
    for (size_t i = 0; i < count; i++) {
        sd_plan_table *table = &plan->tables[i];
        table->def = plan->report->tables[i];
        table->table_id = s_join(plan->request_id, ".", table->def->name);
        if (!table->table_id)
            return -1;
        plan->table_count++;
        size_t periods = 1 + sd_table_def_compare_count(table->def);
        table->expected_parts = (int64_t)(plan->sites.count * periods);
    }
    return 0;
}

//  Returns the date range of a period label.
static const sd_date_range *s_range(const sd_plan *plan, const char *label)
{
    if (strcmp(label, "previous") == 0)
        return &plan->periods.previous;
    if (strcmp(label, "yearly") == 0)
        return &plan->periods.yearly;
    return &plan->periods.current;
}

static int s_fill_period(sd_period *period, const sd_plan *plan, const char *label)
{
    const sd_date_range *range = s_range(plan, label);
    char start[11], end[11];
    sd_date_format(range->start, start);
    sd_date_format(range->end, end);
    period->label = strdup(label);
    period->start = strdup(start);
    period->end = strdup(end);
    return period->label && period->start && period->end ? 0 : -1;
}

static int s_push_list(sd_strings *strings, const char *const *items, size_t capacity)
{
    for (size_t i = 0; i < capacity && items[i]; i++) {
        if (sd_strings_push(strings, items[i]) != 0)
            return -1;
    }
    return 0;
}

static int s_fill_derived(sd_table_spec *spec, const sd_table_def *def)
{
    size_t count = sd_table_def_metric_count(def);
    spec->derived = calloc(count ? count : 1, sizeof *spec->derived);
    if (!spec->derived)
        return -1;
    for (size_t i = 0; i < count; i++) {
        const sd_metric_def *metric = &def->metrics[i];
        sd_derived *derived = &spec->derived[i];
        spec->derived_count++;
        derived->name = strdup(metric->name);
        derived->op = strdup(metric->op);
        derived->a = strdup(metric->a);
        derived->b = strdup(metric->b);
        derived->unit = strdup(metric->unit);
        derived->scale = metric->scale;
        if (!derived->name || !derived->op || !derived->a || !derived->b || !derived->unit)
            return -1;
    }
    return 0;
}

static int s_fill_spec(sd_table_spec *spec, const sd_table_def *def)
{
    for (size_t i = 0; i < sd_table_def_key_count(def); i++) {
        if (sd_strings_push(&spec->keys, def->keys[i].name) != 0)
            return -1;
    }
    if (s_push_list(&spec->sum, def->sum, SD_CATALOG_MAX_ITEMS) != 0 ||
        s_push_list(&spec->compare, def->compare, 3) != 0 || s_fill_derived(spec, def) != 0)
        return -1;
    spec->limit = def->limit;
    if (!def->sort_column)
        return 0;
    spec->sort = calloc(1, sizeof *spec->sort);
    if (!spec->sort)
        return -1;
    spec->sort_count = 1;
    spec->sort[0].column = strdup(def->sort_column);
    spec->sort[0].descending = def->sort_descending;
    return spec->sort[0].column ? 0 : -1;
}

static int s_fill_query(sd_query *query, const sd_plan *plan, const sd_plan_table *table)
{
    const sd_table_def *def = table->def;
    const sd_query_def *source = def->query;
    query->id = s_join(source->id, "/", def->name);
    query->table_id = strdup(table->table_id);
    query->api = strdup(source->api);
    query->params_json = strdup(source->params_json ? source->params_json : "{}");
    if (!query->id || !query->table_id || !query->api || !query->params_json)
        return -1;
    query->expected_parts = table->expected_parts;
    query->limit = source->limit;
    if (s_push_list(&query->metrics, source->metrics, SD_CATALOG_MAX_ITEMS) != 0 ||
        s_push_list(&query->dimensions, source->dimensions, SD_CATALOG_MAX_ITEMS) != 0 ||
        s_fill_spec(&query->spec, def) != 0)
        return -1;

    //  The query runs for the current period and every compared one.
    size_t compared = sd_table_def_compare_count(def);
    query->periods = calloc(1 + compared, sizeof *query->periods);
    if (!query->periods)
        return -1;
    for (size_t i = 0; i <= compared; i++) {
        query->period_count++;
        if (s_fill_period(&query->periods[i], plan, i ? def->compare[i - 1] : "current") != 0)
            return -1;
    }
    return 0;
}

static sd_msg *s_build_job(const sd_plan *plan, const char *site, const char *reporter_id)
{
    sd_msg *msg = sd_msg_new(SD_MSG_FETCH_REQUEST);
    if (!msg)
        return NULL;
    sd_fetch_request *job = &msg->as.fetch_request;
    job->job_id = s_join(plan->request_id, ".", site);
    job->request_id = strdup(plan->request_id);
    job->reporter_id = strdup(reporter_id);
    job->service = strdup(plan->report->service);
    job->site = strdup(site);
    job->deadline_ms = plan->parts_deadline_ms;
    job->queries = calloc(plan->table_count ? plan->table_count : 1, sizeof *job->queries);
    if (!job->job_id || !job->request_id || !job->reporter_id || !job->service || !job->site ||
        !job->queries)
        goto fail;
    for (size_t i = 0; i < plan->table_count; i++) {
        job->query_count++;
        if (s_fill_query(&job->queries[i], plan, &plan->tables[i]) != 0)
            goto fail;
    }
    return msg;
fail:
    sd_msg_destroy(&msg);
    return NULL;
}

static int s_build_jobs(sd_plan *plan, const char *reporter_id)
{
    plan->jobs = calloc(plan->sites.count, sizeof *plan->jobs);
    if (!plan->jobs)
        return -1;
    for (size_t i = 0; i < plan->sites.count; i++) {
        plan->jobs[i] = s_build_job(plan, plan->sites.items[i], reporter_id);
        if (!plan->jobs[i])
            return -1;
        plan->job_count++;
    }
    return 0;
}

//  Resolves the report type, or fills err: 404 for a type that is unknown
//  or not implemented yet.
static const sd_report_def *s_find_report(const char *report, sd_plan_error *err)
{
    const sd_report_def *def = sd_catalog_find(report);
    if (def)
        return def;
    char list[128];
    sd_catalog_list(list, sizeof list);
    s_fail(err, SD_ERROR_NOT_FOUND, "report",
           sd_catalog_is_known(report) ? "report type \"%s\" is not implemented yet; available: %s"
                                       : "unknown report type \"%s\"; available: %s",
           report ? report : "", list);
    return NULL;
}

sd_plan *sd_plan_new(const sd_report_request *request, const sd_config *config,
                     const char *reporter_id, sd_plan_error *err)
{
    *err = (sd_plan_error){0};
    const sd_report_def *report = s_find_report(request->report, err);
    if (!report || sd_plan_check_request(request, err) != 0)
        return NULL;
    sd_plan *plan = calloc(1, sizeof *plan);
    if (!plan)
        goto oom;
    plan->report = report;
    plan->request_id = strdup(request->request_id ? request->request_id : "");
    if (!plan->request_id)
        goto oom;
    if (s_resolve_sites(plan, request, config, err) != 0)
        goto fail;

    s_compute_periods(plan, request);
    plan->parts_deadline_ms = request->deadline_ms - config->reporter.render_margin_ms -
                              config->reporter.table_margin_ms;
    if (s_make_subject(plan) != 0 || s_plan_tables(plan) != 0 || s_build_jobs(plan, reporter_id) != 0)
        goto oom;
    return plan;
oom:
    s_fail(err, SD_ERROR_INTERNAL, "", "out of memory while planning");
fail:
    sd_plan_destroy(&plan);
    return NULL;
}

void sd_plan_destroy(sd_plan **plan)
{
    if (!plan || !*plan)
        return;
    sd_plan *self = *plan;
    for (size_t i = 0; i < self->table_count; i++)
        free(self->tables[i].table_id);
    free(self->tables);
    for (size_t i = 0; i < self->job_count; i++)
        sd_msg_destroy(&self->jobs[i]);
    free(self->jobs);
    sd_strings_clear(&self->sites);
    free(self->subject);
    free(self->request_id);
    free(self);
    *plan = NULL;
}

int sd_plan_find_table(const sd_plan *plan, const char *table_id)
{
    for (size_t i = 0; table_id && i < plan->table_count; i++) {
        if (strcmp(plan->tables[i].table_id, table_id) == 0)
            return (int)i;
    }
    return -1;
}

int sd_plan_find_job(const sd_plan *plan, const char *job_id)
{
    for (size_t i = 0; job_id && i < plan->job_count; i++) {
        if (strcmp(plan->jobs[i]->as.fetch_request.job_id, job_id) == 0)
            return (int)i;
    }
    return -1;
}
