/*  sd_plan: turns a report.request into tables and fetch jobs.  */
#include "sd_plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "sd_filters.h"
#include "sd_log.h"
#include "sd_plan_query.h"

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
static int s_push_all_sites(sd_strings *sites, const sd_config *config, const char *service)
{
    bool youtube = strcmp(service, "youtube") == 0;
    size_t count = youtube ? config->youtube.channel_count : config->ga.site_count;
    for (size_t i = 0; i < count; i++) {
        const char *name = youtube ? config->youtube.channels[i].name : config->ga.sites[i].name;
        if (sd_strings_push(sites, name) != 0)
            return -1;
    }
    return 0;
}

static int s_resolve_sites(sd_plan *plan, const sd_report_request *request,
                           const sd_config *config, sd_plan_error *err)
{
    const char *service = plan->report->service;
    const sd_strings *requested = &request->sites;
    bool all = requested->count == 1 && strcmp(requested->items[0], "all") == 0;
    if (all) {
        if (s_push_all_sites(&plan->sites, config, service) != 0)
            goto oom;
    }
    for (size_t i = 0; !all && i < requested->count; i++) {
        const char *name = requested->items[i];
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

//  ---------------------------------------------------------------------
//  Tables and their periods

//  Returns the first day of the month `months` months before date's month.
static sd_date s_month_start(sd_date date, int months)
{
    int index = date.year * 12 + (date.month - 1) - months;
    return (sd_date){index / 12, index % 12 + 1, 1};
}

static void s_table_periods(const sd_plan *plan, const sd_table_def *def,
                            sd_report_periods *periods)
{
    *periods = plan->periods;
    sd_date end = plan->periods.current.end;
    bool one_day = sd_date_compare(plan->periods.current.start, end) == 0;
    switch (def->periods) {
    case SD_PERIODS_ARTICLES:
        if (one_day)
            periods->previous.start = periods->previous.end = sd_date_add_days(end, -1);
        break;
    case SD_PERIODS_MONTH_TO_DATE: {
        //  Calendar dates a year earlier, whatever the yearly alignment,
        //  because the target is that calendar month.
        sd_date first = s_month_start(end, 0);
        sd_date last_year = sd_date_year_earlier(first);
        periods->current = (sd_date_range){first, end};
        periods->previous.start = last_year;
        periods->previous.end = (sd_date){last_year.year, last_year.month,
                                          sd_date_days_in_month(last_year.year, last_year.month)};
        periods->yearly = (sd_date_range){last_year, sd_date_year_earlier(end)};
        break;
    }
    case SD_PERIODS_MONTHS_12:
        periods->current = (sd_date_range){s_month_start(end, 11), end};
        break;
    case SD_PERIODS_MONTHS_36:
        periods->current = (sd_date_range){s_month_start(end, 35), end};
        break;
    default:
        break;
    }
}

//  Returns true when the request includes the table.
static bool s_table_included(const sd_plan *plan, const sd_table_def *def)
{
    switch (def->when) {
    case SD_WHEN_MONTHLY:
        return plan->frequency == SD_FREQUENCY_MONTHLY;
    case SD_WHEN_NOT_MONTHLY:
        return plan->frequency != SD_FREQUENCY_MONTHLY;
    case SD_WHEN_SOME_SITES:
        return !plan->all_sites;
    default:
        return true;
    }
}

static int s_find_table_name(const sd_plan *plan, const char *name)
{
    for (size_t i = 0; name && i < plan->table_count; i++) {
        if (strcmp(plan->tables[i].def->name, name) == 0)
            return (int)i;
    }
    return -1;
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
        const sd_table_def *def = plan->report->tables[i];
        if (!s_table_included(plan, def))
            continue;
        sd_plan_table *table = &plan->tables[plan->table_count];
        table->def = def;
        table->table_id = s_join(plan->id_prefix, ".", def->name);
        if (!table->table_id)
            return -1;
        plan->table_count++;
        table->sites = def->scope == SD_SCOPE_NETWORK ? &plan->network_sites
                       : def->scope == SD_SCOPE_FIRST_SITE ? &plan->first_site
                                                           : &plan->sites;
        size_t periods = 1 + sd_table_def_compare_count(def);
        table->expected_parts = (int64_t)(table->sites->count * periods);
        table->parent = s_find_table_name(plan, def->parent);
        table->planned = table->parent < 0;
        s_table_periods(plan, def, &table->periods);
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Fetch jobs

static bool s_table_has_site(const sd_plan_table *table, const char *site)
{
    return s_strings_contain(table->sites, site);
}

//  Builds the job of site with the queries of the tables chosen by
//  `include` (table indexes). A dependent table's query is filtered with
//  the values of its parent's rows. Returns NULL when out of memory; sets
//  *empty when a query's filter matches nothing.
static sd_msg *s_build_job(const sd_plan *plan, const char *site, const char *suffix,
                           const bool *include, bool *empty)
{
    sd_msg *msg = sd_msg_new(SD_MSG_FETCH_REQUEST);
    if (!msg)
        return NULL;
    sd_fetch_request *job = &msg->as.fetch_request;
    job->job_id = s_join(plan->id_prefix, ".", site);
    if (job->job_id && *suffix) {
        char *longer = s_join(job->job_id, ".", suffix);
        free(job->job_id);
        job->job_id = longer;
    }
    job->request_id = strdup(plan->request_id);
    job->reporter_id = strdup(plan->reporter_id);
    job->service = strdup(plan->report->service);
    job->site = strdup(site);
    job->deadline_ms = plan->parts_deadline_ms;
    job->queries = calloc(plan->table_count ? plan->table_count : 1, sizeof *job->queries);
    if (!job->job_id || !job->request_id || !job->reporter_id || !job->service || !job->site ||
        !job->queries)
        goto fail;
    for (size_t i = 0; i < plan->table_count; i++) {
        if (!include[i] || !s_table_has_site(&plan->tables[i], site))
            continue;
        const sd_plan_table *table = &plan->tables[i];
        const sd_strings *parent_values = table->parent >= 0 ? &table->parent_values : NULL;
        sd_query *query = &job->queries[job->query_count++];
        if (sd_plan_query_fill(query, plan, table, parent_values, empty) != 0)
            goto fail;
    }
    return msg;
fail:
    sd_msg_destroy(&msg);
    return NULL;
}

//  The sites that get a job: the requested ones, then the other sites of
//  network tables.
static int s_job_sites(const sd_plan *plan, sd_strings *sites)
{
    for (size_t i = 0; i < plan->sites.count; i++) {
        if (sd_strings_push(sites, plan->sites.items[i]) != 0)
            return -1;
    }
    for (size_t t = 0; t < plan->table_count; t++) {
        const sd_strings *table_sites = plan->tables[t].sites;
        for (size_t i = 0; i < table_sites->count; i++) {
            const char *site = table_sites->items[i];
            if (!s_strings_contain(sites, site) && sd_strings_push(sites, site) != 0)
                return -1;
        }
    }
    return 0;
}

static int s_build_jobs(sd_plan *plan)
{
    sd_strings sites = {0};
    bool *include = calloc(plan->table_count ? plan->table_count : 1, sizeof *include);
    int rc = include ? s_job_sites(plan, &sites) : -1;
    size_t dependents = 0;
    for (size_t t = 0; include && t < plan->table_count; t++) {
        include[t] = plan->tables[t].parent < 0;
        dependents += include[t] ? 0 : 1;
    }
    //  Each dependent table may need one job per site of its own.
    plan->job_capacity = sites.count + dependents * sites.count;
    plan->jobs = rc == 0 ? calloc(plan->job_capacity ? plan->job_capacity : 1,
                                  sizeof *plan->jobs)
                         : NULL;
    rc = plan->jobs ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < sites.count; i++) {
        bool empty = false;
        plan->jobs[i] = s_build_job(plan, sites.items[i], "", include, &empty);
        rc = plan->jobs[i] ? 0 : -1;
        if (rc == 0)
            plan->job_count++;
    }
    sd_strings_clear(&sites);
    free(include);
    return rc;
}

//  Returns the values of the parent's key column in its leading rows.
static int s_parent_values(const sd_table_def *def, const sd_table_normalized *parent,
                           sd_strings *values)
{
    int column = sd_table_data_column(&parent->data, def->parent_key);
    size_t rows = parent->data.row_count;
    if (def->parent_rows > 0 && (size_t)def->parent_rows < rows)
        rows = (size_t)def->parent_rows;
    for (size_t r = 0; column >= 0 && r < rows; r++) {
        const sd_value *cell = &parent->data.cells[r * parent->data.column_count + (size_t)column];
        if (cell->kind == SD_VALUE_STRING && sd_strings_push(values, cell->as.s.ptr) != 0)
            return -1;
    }
    return 0;
}

//  Marks a dependent table empty when its parent's rows give its filter
//  nothing to match. Returns 0, or -1 when out of memory.
static int s_check_dependent(const sd_plan *plan, sd_plan_table *table)
{
    bool empty = table->parent_values.count == 0;
    if (!empty) {
        char *params = sd_filters_params(table->def->query, plan->config, &table->parent_values,
                                         &empty);
        if (!params)
            return -1;
        free(params);
    }
    table->empty = empty;
    return 0;
}

//  Appends the sites of the included tables to sites, without duplicates.
static int s_included_sites(const sd_plan *plan, const bool *include, sd_strings *sites)
{
    for (size_t t = 0; t < plan->table_count; t++) {
        const sd_strings *table_sites = plan->tables[t].sites;
        for (size_t i = 0; include[t] && i < table_sites->count; i++) {
            const char *site = table_sites->items[i];
            if (!s_strings_contain(sites, site) && sd_strings_push(sites, site) != 0)
                return -1;
        }
    }
    return 0;
}

//  Plans every dependent table whose parent has arrived: one job per site
//  with the queries of all of them, so that the worker can send them
//  together. A table whose filter matches nothing is marked empty and left
//  out. Returns the number of jobs appended, or -1 when out of memory.
static int s_plan_second_stage(sd_plan *plan)
{
    bool *include = calloc(plan->table_count ? plan->table_count : 1, sizeof *include);
    sd_strings sites = {0};
    const char *suffix = NULL;
    size_t included = 0;
    int rc = include ? 0 : -1;
    for (size_t t = 0; rc == 0 && t < plan->table_count; t++) {
        sd_plan_table *table = &plan->tables[t];
        if (table->parent < 0 || table->planned || !table->parent_arrived)
            continue;
        rc = s_check_dependent(plan, table);
        table->planned = true;
        include[t] = rc == 0 && !table->empty;
        if (include[t] && included++ == 0)
            suffix = table->def->name;
    }
    //  A job of one table keeps that table's name; a job of several is
    //  named for the stage.
    if (included > 1)
        suffix = "dependents";
    if (rc == 0)
        rc = s_included_sites(plan, include, &sites);
    int added = 0;
    for (size_t s = 0; rc == 0 && included > 0 && s < sites.count; s++) {
        bool empty = false;
        sd_msg *job = s_build_job(plan, sites.items[s], suffix, include, &empty);
        if (!job || plan->job_count >= plan->job_capacity) {
            sd_msg_destroy(&job);
            rc = -1;
        } else {
            plan->jobs[plan->job_count++] = job;
            added++;
        }
    }
    sd_strings_clear(&sites);
    free(include);
    return rc == 0 ? added : -1;
}

int sd_plan_dependents(sd_plan *plan, size_t parent, const sd_table_normalized *table)
{
    bool arrived = false;
    for (size_t t = 0; t < plan->table_count; t++) {
        sd_plan_table *dependent = &plan->tables[t];
        if (dependent->parent != (int)parent || dependent->planned || dependent->parent_arrived)
            continue;
        if (s_parent_values(dependent->def, table, &dependent->parent_values) != 0)
            return -1;
        dependent->parent_arrived = true;
        arrived = true;
    }
    if (!arrived)
        return 0;
    //  The second stage waits until the parents of all its tables are in.
    for (size_t t = 0; t < plan->table_count; t++) {
        const sd_plan_table *dependent = &plan->tables[t];
        if (dependent->parent >= 0 && !dependent->planned && !dependent->parent_arrived)
            return 0;
    }
    return s_plan_second_stage(plan);
}

sd_msg *sd_plan_empty_table(const sd_plan *plan, size_t index)
{
    const sd_plan_table *table = &plan->tables[index];
    sd_msg *msg = sd_msg_new(SD_MSG_TABLE_NORMALIZED);
    if (!msg)
        return NULL;
    sd_table_normalized *empty = &msg->as.table_normalized;
    empty->request_id = strdup(plan->request_id);
    empty->reporter_id = strdup(plan->reporter_id);
    empty->table_id = strdup(table->table_id);
    if (!empty->request_id || !empty->reporter_id || !empty->table_id)
        sd_msg_destroy(&msg);
    return msg;
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

//  Writes 8 random hex digits and a NUL into attempt. Without the kernel's
//  random numbers, the clock and the process id still differ per attempt.
static void s_draw_attempt(char attempt[9])
{
    uint32_t value = 0;
    struct timespec now;
    if (getrandom(&value, sizeof value, 0) != (ssize_t)sizeof value &&
        clock_gettime(CLOCK_REALTIME, &now) == 0)
        value = (uint32_t)now.tv_nsec ^ ((uint32_t)getpid() << 16);
    snprintf(attempt, 9, "%08x", value);
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
    plan->config = config;
    plan->request_id = strdup(request->request_id ? request->request_id : "");
    plan->reporter_id = strdup(reporter_id);
    s_draw_attempt(plan->attempt);
    plan->id_prefix = plan->request_id ? s_join(plan->request_id, ".", plan->attempt) : NULL;
    if (!plan->request_id || !plan->reporter_id || !plan->id_prefix)
        goto oom;
    if (s_resolve_sites(plan, request, config, err) != 0)
        goto fail;
    if (s_push_all_sites(&plan->network_sites, config, report->service) != 0
        || sd_strings_push(&plan->first_site, plan->sites.items[0]) != 0)
        goto oom;
    plan->all_sites = plan->sites.count == plan->network_sites.count;

    s_compute_periods(plan, request);
    plan->parts_deadline_ms = request->deadline_ms - config->reporter.render_margin_ms -
                              config->reporter.table_margin_ms;
    if (s_make_subject(plan) != 0 || s_plan_tables(plan) != 0 || s_build_jobs(plan) != 0)
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
    for (size_t i = 0; i < self->table_count; i++) {
        free(self->tables[i].table_id);
        sd_strings_clear(&self->tables[i].parent_values);
    }
    free(self->tables);
    for (size_t i = 0; i < self->job_count; i++)
        sd_msg_destroy(&self->jobs[i]);
    free(self->jobs);
    sd_strings_clear(&self->sites);
    sd_strings_clear(&self->network_sites);
    sd_strings_clear(&self->first_site);
    free(self->subject);
    free(self->request_id);
    free(self->id_prefix);
    free(self->reporter_id);
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
