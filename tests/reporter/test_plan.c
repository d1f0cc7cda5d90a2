/*  Planning a report request: periods, tables, specs and fetch jobs.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "sd_plan.h"

#define DEADLINE_MS INT64_C(1800000000000)
#define RENDER_MARGIN_MS 4000
#define TABLE_MARGIN_MS 1500

static const char *const s_sites[] = {"zeta.example", "alpha.example", "<b>mid</b>.example",
                                      "omega.example"};

typedef struct {
    sd_config *config;
    sd_msg *request;
} fixture;

static int s_setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->config = fixture_config(s_sites, 4, RENDER_MARGIN_MS, TABLE_MARGIN_MS);
    f->request = sd_msg_new(SD_MSG_REPORT_REQUEST);
    sd_report_request *r = &f->request->as.report_request;
    r->request_id = strdup("r42");
    r->report = strdup("ga-core");
    r->frequency = strdup("WOW_DAILY");
    r->date = strdup("2026-12-01");
    r->delivery_id = strdup("");
    r->yearly_alignment = strdup("calendar");
    r->deadline_ms = DEADLINE_MS;
    sd_strings_push(&r->formats, "json");
    *state = f;
    return f->config ? 0 : -1;
}

static int s_teardown(void **state)
{
    fixture *f = *state;
    sd_msg_destroy(&f->request);
    sd_config_destroy(&f->config);
    free(f);
    return 0;
}

static void s_set(char **field, const char *value)
{
    free(*field);
    *field = strdup(value);
}

static void s_date_equal(sd_date date, const char *expected)
{
    char text[11];
    sd_date_format(date, text);
    assert_string_equal(text, expected);
}

static bool s_close(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b));
}

static void plan_wow_daily_periods(void **state)
{
    fixture *f = *state;
    sd_strings_push(&f->request->as.report_request.sites, "alpha.example");
    sd_plan_error err;
    sd_plan *plan = sd_plan_new(&f->request->as.report_request, f->config, "rep1", &err);
    assert_non_null(plan);
    s_date_equal(plan->periods.current.start, "2026-12-01");
    s_date_equal(plan->periods.current.end, "2026-12-01");
    s_date_equal(plan->periods.previous.start, "2026-11-24");
    s_date_equal(plan->periods.previous.end, "2026-11-24");
    s_date_equal(plan->periods.yearly.start, "2025-12-01");
    assert_string_equal(plan->subject, "Statsdash ga-core: Tue 01 Dec 2026");
    assert_int_equal(plan->parts_deadline_ms, DEADLINE_MS - RENDER_MARGIN_MS - TABLE_MARGIN_MS);
    sd_plan_destroy(&plan);
    assert_null(plan);
}

static void plan_weekday_alignment(void **state)
{
    fixture *f = *state;
    sd_strings_push(&f->request->as.report_request.sites, "alpha.example");
    s_set(&f->request->as.report_request.yearly_alignment, "weekday");
    sd_plan_error err;
    sd_plan *plan = sd_plan_new(&f->request->as.report_request, f->config, "rep1", &err);
    assert_non_null(plan);
    //  364 days before Tuesday 2026-12-01 is Tuesday 2025-12-02.
    s_date_equal(plan->periods.yearly.start, "2025-12-02");
    assert_int_equal(sd_date_weekday(plan->periods.yearly.start), 1);
    sd_plan_destroy(&plan);
}

static void plan_monthly_subject(void **state)
{
    fixture *f = *state;
    sd_strings_push(&f->request->as.report_request.sites, "alpha.example");
    s_set(&f->request->as.report_request.frequency, "MONTHLY");
    s_set(&f->request->as.report_request.date, "2026-11-30");
    sd_plan_error err;
    sd_plan *plan = sd_plan_new(&f->request->as.report_request, f->config, "rep1", &err);
    assert_non_null(plan);
    s_date_equal(plan->periods.current.start, "2026-11-01");
    s_date_equal(plan->periods.previous.start, "2026-10-01");
    s_date_equal(plan->periods.previous.end, "2026-10-31");
    assert_string_equal(plan->subject, "Statsdash ga-core: November 2026");
    sd_plan_destroy(&plan);
}

static void s_check_periods(const sd_query *query)
{
    static const char *const labels[] = {"current", "previous", "yearly"};
    static const char *const dates[] = {"2026-12-01", "2026-11-24", "2025-12-01"};
    assert_int_equal(query->period_count, 3);
    for (size_t p = 0; p < 3; p++) {
        assert_string_equal(query->periods[p].label, labels[p]);
        assert_string_equal(query->periods[p].start, dates[p]);
        assert_string_equal(query->periods[p].end, dates[p]);
    }
}

static void s_check_derived(const sd_table_spec *spec)
{
    static const char *const ops[] = {"scale", "scale", "scale", "ratio", "ratio"};
    static const char *const a[] = {"screenPageViews", "totalUsers", "sessions",
                                    "screenPageViews", "userEngagementDuration"};
    static const char *const b[] = {"", "", "", "sessions", "sessions"};
    static const double scales[] = {1.0, 1.0, 1.0, 1.0, 1.0 / 60.0};
    assert_int_equal(spec->derived_count, FIXTURE_METRICS);
    for (size_t i = 0; i < FIXTURE_METRICS; i++) {
        assert_string_equal(spec->derived[i].name, fixture_metric_names[i]);
        assert_string_equal(spec->derived[i].op, ops[i]);
        assert_string_equal(spec->derived[i].a, a[i]);
        assert_string_equal(spec->derived[i].b, b[i]);
        assert_true(s_close(spec->derived[i].scale, scales[i]));
    }
}

static void s_check_common_query(const sd_query *query, int64_t expected_parts)
{
    static const char *const metrics[] = {"screenPageViews", "totalUsers", "sessions",
                                          "userEngagementDuration"};
    assert_string_equal(query->api, "ga4.runReport");
    assert_int_equal(query->metrics.count, 4);
    assert_int_equal(query->spec.sum.count, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(query->metrics.items[i], metrics[i]);
        assert_string_equal(query->spec.sum.items[i], metrics[i]);
    }
    assert_int_equal(query->dimensions.count, 0);
    assert_int_equal(query->expected_parts, expected_parts);
    assert_int_equal(query->spec.compare.count, 2);
    assert_string_equal(query->spec.compare.items[0], "previous");
    assert_string_equal(query->spec.compare.items[1], "yearly");
    s_check_periods(query);
    s_check_derived(&query->spec);
}

//  Returns the query of job that feeds table_id, or NULL.
static const sd_query *s_query(const sd_fetch_request *job, const char *table_id)
{
    for (size_t i = 0; i < job->query_count; i++) {
        if (strcmp(job->queries[i].table_id, table_id) == 0)
            return &job->queries[i];
    }
    return NULL;
}

//  Returns true when id is "r42.", 8 lower-case hex digits, "." and rest.
static bool s_attempt_id(const char *id, const char *rest)
{
    if (strncmp(id, "r42.", 4) != 0 || strlen(id) < 13 || id[12] != '.')
        return false;
    for (size_t i = 4; i < 12; i++)
        if (!isdigit((unsigned char)id[i]) && !(id[i] >= 'a' && id[i] <= 'f'))
            return false;
    return strcmp(id + 13, rest) == 0;
}

//  Each plan is an attempt with ids of its own, so that a request that
//  another reporter runs again gets tables the aggregators have not seen.
static void plan_ids_per_attempt(void **state)
{
    fixture *f = *state;
    sd_strings_push(&f->request->as.report_request.sites, "alpha.example");
    sd_plan_error err;
    sd_plan *first = sd_plan_new(&f->request->as.report_request, f->config, "rep1", &err);
    sd_plan *second = sd_plan_new(&f->request->as.report_request, f->config, "rep1", &err);
    assert_non_null(first);
    assert_non_null(second);
    assert_true(s_attempt_id(first->tables[0].table_id, "summary"));
    assert_true(s_attempt_id(first->jobs[0]->as.fetch_request.job_id, "alpha.example"));
    assert_string_equal(first->jobs[0]->as.fetch_request.request_id, "r42");
    assert_true(s_attempt_id(second->tables[0].table_id, "summary"));
    assert_string_not_equal(first->tables[0].table_id, second->tables[0].table_id);
    assert_string_not_equal(first->jobs[0]->as.fetch_request.job_id,
                            second->jobs[0]->as.fetch_request.job_id);
    assert_int_equal(sd_plan_find_table(second, first->tables[0].table_id), -1);
    sd_plan_destroy(&first);
    sd_plan_destroy(&second);
}

static void plan_one_site_job(void **state)
{
    fixture *f = *state;
    sd_strings_push(&f->request->as.report_request.sites, "alpha.example");
    sd_plan_error err;
    sd_plan *plan = sd_plan_new(&f->request->as.report_request, f->config, "rep1", &err);
    assert_non_null(plan);
    assert_string_equal(plan->tables[0].table_id, fixture_id(plan, "summary"));
    assert_string_equal(plan->tables[1].table_id, fixture_id(plan, "network_summary"));
    int site_index = sd_plan_find_table(plan, fixture_id(plan, "site_summary"));
    assert_true(site_index > 1);
    assert_int_equal(plan->tables[0].expected_parts, 3);
    //  The network overview takes parts from all four configured sites.
    assert_int_equal(plan->tables[1].expected_parts, 12);
    assert_int_equal(plan->job_count, 4);

    const sd_fetch_request *job = &plan->jobs[0]->as.fetch_request;
    assert_string_equal(job->job_id, fixture_id(plan, "alpha.example"));
    assert_string_equal(job->request_id, "r42");
    assert_string_equal(job->reporter_id, "rep1");
    assert_string_equal(job->service, "ga");
    assert_string_equal(job->site, "alpha.example");
    assert_int_equal(job->deadline_ms, DEADLINE_MS - RENDER_MARGIN_MS - TABLE_MARGIN_MS);

    const sd_query *summary = s_query(job, fixture_id(plan, "summary"));
    const sd_query *sites = s_query(job, fixture_id(plan, "site_summary"));
    assert_non_null(summary);
    assert_non_null(sites);
    assert_string_equal(summary->table_id, fixture_id(plan, "summary"));
    assert_string_equal(sites->table_id, fixture_id(plan, "site_summary"));
    assert_string_not_equal(summary->id, sites->id);
    s_check_common_query(summary, 3);
    s_check_common_query(sites, 3);
    assert_int_equal(summary->spec.keys.count, 0);
    assert_int_equal(summary->spec.sort_count, 0);
    assert_int_equal(sites->spec.keys.count, 1);
    assert_string_equal(sites->spec.keys.items[0], "site");
    assert_int_equal(sites->spec.sort_count, 1);
    assert_string_equal(sites->spec.sort[0].column, "users");
    assert_true(sites->spec.sort[0].descending);

    //  The other sites' jobs only feed the network overview.
    for (size_t j = 1; j < 4; j++) {
        const sd_fetch_request *other = &plan->jobs[j]->as.fetch_request;
        assert_int_equal(other->query_count, 1);
        assert_string_equal(other->queries[0].table_id, fixture_id(plan, "network_summary"));
        s_check_common_query(&other->queries[0], 12);
    }
    sd_plan_destroy(&plan);
}

static void plan_four_sites_jobs(void **state)
{
    fixture *f = *state;
    sd_strings *sites = &f->request->as.report_request.sites;
    static const char *const wanted[] = {"omega.example", "alpha.example", "zeta.example",
                                         "<b>mid</b>.example"};
    for (size_t i = 0; i < 4; i++)
        sd_strings_push(sites, wanted[i]);
    sd_strings_push(sites, "alpha.example");
    sd_plan_error err;
    sd_plan *plan = sd_plan_new(&f->request->as.report_request, f->config, "rep1", &err);
    assert_non_null(plan);
    //  The duplicate is dropped; the order is the request's.
    assert_int_equal(plan->job_count, 4);
    for (size_t i = 0; i < 4; i++) {
        const sd_fetch_request *job = &plan->jobs[i]->as.fetch_request;
        assert_string_equal(job->site, wanted[i]);
        assert_int_equal(s_query(job, fixture_id(plan, "summary"))->expected_parts, 12);
        assert_int_equal(s_query(job, fixture_id(plan, "site_summary"))->expected_parts, 12);
        //  Every site is in the request, so there is no network overview.
        assert_null(s_query(job, fixture_id(plan, "network_summary")));
        assert_int_equal(sd_plan_find_job(plan, job->job_id), (int)i);
    }
    int site_index = sd_plan_find_table(plan, fixture_id(plan, "site_summary"));
    assert_true(site_index > 0);
    assert_int_equal(plan->tables[site_index].expected_parts, 12);
    assert_int_equal(sd_plan_find_table(plan, "r41.site_summary"), -1);
    sd_plan_destroy(&plan);
}

static void plan_all_sites_config_order(void **state)
{
    fixture *f = *state;
    sd_strings_push(&f->request->as.report_request.sites, "all");
    sd_plan_error err;
    sd_plan *plan = sd_plan_new(&f->request->as.report_request, f->config, "rep1", &err);
    assert_non_null(plan);
    assert_int_equal(plan->job_count, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(plan->sites.items[i], s_sites[i]);
        assert_string_equal(plan->jobs[i]->as.fetch_request.site, s_sites[i]);
    }
    assert_int_equal(plan->tables[0].expected_parts, 12);
    sd_plan_destroy(&plan);
}

static void plan_jobs_encode_and_decode(void **state)
{
    fixture *f = *state;
    sd_strings_push(&f->request->as.report_request.sites, "all");
    sd_plan_error err;
    sd_plan *plan = sd_plan_new(&f->request->as.report_request, f->config, "rep1", &err);
    assert_non_null(plan);
    for (size_t i = 0; i < plan->job_count; i++) {
        uint8_t *data = NULL;
        size_t size = 0;
        sd_proto_error perr;
        assert_int_equal(sd_msg_encode(plan->jobs[i], &data, &size, &perr), 0);
        sd_msg *decoded = sd_msg_decode(data, size, NULL, &perr);
        assert_non_null(decoded);
        assert_string_equal(decoded->as.fetch_request.job_id,
                            plan->jobs[i]->as.fetch_request.job_id);
        assert_int_equal(decoded->as.fetch_request.query_count,
                         plan->jobs[i]->as.fetch_request.query_count);
        sd_msg_destroy(&decoded);
        free(data);
    }
    sd_plan_destroy(&plan);
}

//  Plans the fixture request and expects a rejection.
static void s_expect_error(fixture *f, int code, const char *field, const char *text_part)
{
    sd_plan_error err;
    sd_plan *plan = sd_plan_new(&f->request->as.report_request, f->config, "rep1", &err);
    assert_null(plan);
    assert_int_equal(err.code, code);
    assert_string_equal(err.field, field);
    assert_non_null(strstr(err.text, text_part));
}

static void plan_unknown_site_rejected(void **state)
{
    fixture *f = *state;
    sd_strings_push(&f->request->as.report_request.sites, "alpha.example");
    sd_strings_push(&f->request->as.report_request.sites, "nosuch.example");
    s_expect_error(f, 404, "sites[1]", "\"nosuch.example\"");
}

static void plan_unknown_report_rejected(void **state)
{
    fixture *f = *state;
    sd_strings_push(&f->request->as.report_request.sites, "all");
    s_set(&f->request->as.report_request.report, "ga-nonsense");
    s_expect_error(f, 404, "report", "\"ga-nonsense\"");
    //  The fixture config has no YouTube channels for "all" to name.
    s_set(&f->request->as.report_request.report, "youtube");
    s_expect_error(f, 400, "sites", "no sites");
}

static void plan_bad_fields_rejected(void **state)
{
    fixture *f = *state;
    sd_report_request *r = &f->request->as.report_request;
    sd_strings_push(&r->sites, "all");
    s_set(&r->frequency, "HOURLY");
    s_expect_error(f, 400, "frequency", "\"HOURLY\"");
    s_set(&r->frequency, "DAILY");
    s_set(&r->date, "2026-02-30");
    s_expect_error(f, 400, "date", "\"2026-02-30\"");
    s_set(&r->date, "2026-02-28");
    s_set(&r->yearly_alignment, "lunar");
    s_expect_error(f, 400, "yearly_alignment", "\"lunar\"");
    s_set(&r->yearly_alignment, "calendar");
    sd_strings_push(&r->formats, "pdf");
    s_expect_error(f, 400, "formats[1]", "\"pdf\"");
}

static void plan_no_sites_rejected(void **state)
{
    fixture *f = *state;
    s_expect_error(f, 400, "sites", "no sites");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(plan_wow_daily_periods, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(plan_weekday_alignment, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(plan_monthly_subject, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(plan_ids_per_attempt, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(plan_one_site_job, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(plan_four_sites_jobs, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(plan_all_sites_config_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(plan_jobs_encode_and_decode, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(plan_unknown_site_rejected, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(plan_unknown_report_rejected, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(plan_bad_fields_rejected, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(plan_no_sites_rejected, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
