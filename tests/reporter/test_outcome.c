/*  Missing data: warnings and the partial status from tables, fetch replies
    and failed jobs.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "sd_compose.h"
#include "sd_outcome.h"
#include "sd_plan.h"

static const char *const s_sites[] = {"one.example", "two.example"};
static const fixture_row s_row = {"one.example", {10, 5, 4, 2.5, 1}, {8, 4, 4, 2, 1},
                                  {5, 5, 5, 1, 1}};

typedef struct {
    sd_config *config;
    sd_msg *request;
    sd_plan *plan;
    sd_msg *tables[SD_CATALOG_MAX_ITEMS];   //  the other tables arrive empty
    size_t summary;                 //  index of the summary table
    size_t site_summary;
    sd_msg *replies[2];
    char *job_errors[2];
    sd_outcome outcome;
} fixture;

static sd_msg *s_reply(const char *job_id, const char *site)
{
    sd_msg *msg = sd_msg_new(SD_MSG_FETCH_REPLY);
    msg->as.fetch_reply.job_id = strdup(job_id);
    msg->as.fetch_reply.request_id = strdup("r7");
    msg->as.fetch_reply.site = strdup(site);
    return msg;
}

static void s_add_part_error(sd_msg *msg, const char *table_id, const char *part_id,
                             const char *error)
{
    sd_fetch_reply *reply = &msg->as.fetch_reply;
    reply->parts = realloc(reply->parts, (reply->part_count + 1) * sizeof *reply->parts);
    sd_part_status *part = &reply->parts[reply->part_count++];
    *part = (sd_part_status){strdup(table_id), strdup(part_id), 0, strdup(""), strdup(error)};
}

static int s_setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->config = fixture_config(s_sites, 2, 5000, 3000);
    f->request = sd_msg_new(SD_MSG_REPORT_REQUEST);
    sd_report_request *r = &f->request->as.report_request;
    r->request_id = strdup("r7");
    r->report = strdup("ga-core");
    r->frequency = strdup("DAILY");
    r->date = strdup("2026-12-01");
    r->deadline_ms = INT64_C(1800000000000);
    sd_strings_push(&r->sites, "all");
    sd_plan_error err;
    f->plan = f->config ? sd_plan_new(r, f->config, "rep1", &err) : NULL;
    *state = f;
    if (!f->plan)
        return -1;
    f->replies[0] = s_reply(fixture_id(f->plan, "one.example"), "one.example");
    f->replies[1] = s_reply(fixture_id(f->plan, "two.example"), "two.example");
    f->summary = (size_t)sd_plan_find_table(f->plan, fixture_id(f->plan, "summary"));
    f->site_summary = (size_t)sd_plan_find_table(f->plan, fixture_id(f->plan, "site_summary"));
    for (size_t t = 0; t < f->plan->table_count; t++)
        f->tables[t] = sd_plan_empty_table(f->plan, t);
    sd_msg_destroy(&f->tables[f->summary]);
    sd_msg_destroy(&f->tables[f->site_summary]);
    f->tables[f->summary] = fixture_table("r7", fixture_id(f->plan, "summary"), &s_row, 1, false);
    f->tables[f->site_summary] =
        fixture_table("r7", fixture_id(f->plan, "site_summary"), &s_row, 1, true);
    return 0;
}

static int s_teardown(void **state)
{
    fixture *f = *state;
    for (size_t t = 0; t < SD_CATALOG_MAX_ITEMS; t++)
        sd_msg_destroy(&f->tables[t]);
    for (size_t i = 0; i < 2; i++) {
        sd_msg_destroy(&f->replies[i]);
        free(f->job_errors[i]);
    }
    sd_outcome_clear(&f->outcome);
    sd_plan_destroy(&f->plan);
    sd_msg_destroy(&f->request);
    sd_config_destroy(&f->config);
    free(f);
    return 0;
}

static void s_compute(fixture *f)
{
    assert_int_equal(sd_outcome_compute(f->plan, f->tables, f->replies, f->job_errors,
                                        &f->outcome),
                     0);
}

static void outcome_complete_without_warnings(void **state)
{
    fixture *f = *state;
    s_compute(f);
    assert_false(f->outcome.partial);
    assert_int_equal(f->outcome.missing.count, 0);
    assert_int_equal(f->outcome.warnings.count, 0);
}

static void outcome_missing_parts_grouped(void **state)
{
    fixture *f = *state;
    fixture_add_missing(f->tables[f->summary], "two.example", "current", "HTTP 503 from the API");
    fixture_add_missing(f->tables[f->site_summary], "two.example", "current", "HTTP 503 from the API");
    fixture_add_missing(f->tables[f->site_summary], "two.example", "yearly", "");
    //  The same failure reported by the worker is merged with the table's.
    s_add_part_error(f->replies[1], fixture_id(f->plan, "summary"), "two.example/current",
                     "HTTP 503 from the API");
    s_compute(f);
    assert_true(f->outcome.partial);
    assert_int_equal(f->outcome.missing.count, 1);
    assert_string_equal(f->outcome.missing.items[0], "two.example");
    assert_int_equal(f->outcome.warnings.count, 2);
    assert_string_equal(f->outcome.warnings.items[0],
                        "two.example: HTTP 503 from the API (summary/current, "
                        "site_summary/current)");
    assert_string_equal(f->outcome.warnings.items[1],
                        "two.example: no data arrived before the deadline "
                        "(site_summary/yearly)");
}

static void outcome_table_never_arrived(void **state)
{
    fixture *f = *state;
    sd_msg_destroy(&f->tables[f->site_summary]);
    s_compute(f);
    assert_true(f->outcome.partial);
    assert_int_equal(f->outcome.missing.count, 2);
    assert_string_equal(f->outcome.missing.items[0], "one.example");
    assert_string_equal(f->outcome.missing.items[1], "two.example");
    assert_string_equal(f->outcome.warnings.items[0],
                        "one.example: no data arrived before the deadline "
                        "(site_summary/all periods)");
}

static void outcome_failed_job_named_once(void **state)
{
    fixture *f = *state;
    sd_msg_destroy(&f->replies[0]);
    f->job_errors[0] = strdup("fetch job failed: no such service (error 404 from service ga)");
    fixture_add_missing(f->tables[f->summary], "one.example", "current", "");
    fixture_add_missing(f->tables[f->site_summary], "one.example", "current", "");
    s_compute(f);
    assert_true(f->outcome.partial);
    assert_int_equal(f->outcome.missing.count, 1);
    assert_int_equal(f->outcome.warnings.count, 1);
    assert_string_equal(f->outcome.warnings.items[0],
                        "one.example: fetch job failed: no such service (error 404 from "
                        "service ga) (all tables)");
}

static void outcome_silent_worker_warned(void **state)
{
    fixture *f = *state;
    sd_msg_destroy(&f->replies[1]);
    sd_strings_push(&f->replies[0]->as.fetch_reply.warnings, "sampled data");
    s_compute(f);
    assert_false(f->outcome.partial);
    assert_int_equal(f->outcome.warnings.count, 2);
    assert_string_equal(f->outcome.warnings.items[0], "one.example: sampled data");
    assert_non_null(strstr(f->outcome.warnings.items[1], "two.example: the worker did not"));
}

static void s_add_warning(fixture *f, size_t table, const char *text)
{
    assert_int_equal(sd_strings_push(&f->tables[table]->as.table_normalized.warnings, text), 0);
}

static void outcome_site_without_data(void **state)
{
    fixture *f = *state;
    //  Every table that arrived has no rows for two.example in the current
    //  period, and some also none in the others.
    for (size_t t = 0; t < f->plan->table_count; t++) {
        s_add_warning(f, t, "no rows for site two.example in period current");
        s_add_warning(f, t, "no rows for site two.example in period previous");
    }
    s_add_warning(f, f->summary, "no rows for site one.example in period yearly");
    s_compute(f);
    assert_true(f->outcome.partial);
    assert_int_equal(f->outcome.missing.count, 1);
    assert_string_equal(f->outcome.missing.items[0], "two.example");
    assert_int_equal(f->outcome.warnings.count, 2);
    assert_string_equal(f->outcome.warnings.items[0],
                        "no data for site two.example in the current period");
    assert_string_equal(f->outcome.warnings.items[1],
                        "one.example: no rows (summary/yearly)");
}

static void outcome_empty_parts_grouped(void **state)
{
    fixture *f = *state;
    //  site_summary has rows for two.example in the current period, so the
    //  site has data: its empty parts become one warning.
    s_add_warning(f, f->summary, "no rows for site two.example in period current");
    s_add_warning(f, f->summary, "no rows for site two.example in period yearly");
    s_add_warning(f, f->site_summary, "no rows for site two.example in period yearly");
    s_compute(f);
    assert_false(f->outcome.partial);
    assert_int_equal(f->outcome.missing.count, 0);
    assert_int_equal(f->outcome.warnings.count, 1);
    assert_string_equal(f->outcome.warnings.items[0],
                        "two.example: no rows (summary/current, summary/yearly, "
                        "site_summary/yearly)");
}

static void outcome_sampling_named_once(void **state)
{
    fixture *f = *state;
    const char *sampled = "property 310000002: data sampled: GA4 computed the figures from a "
                          "sample of events";
    s_add_warning(f, f->summary, sampled);
    s_add_warning(f, f->site_summary, sampled);
    s_add_warning(f, f->summary, "thresholded: applied somewhere");
    s_compute(f);
    assert_false(f->outcome.partial);
    assert_true(f->outcome.sampled);
    assert_true(f->outcome.thresholded);
    assert_int_equal(f->outcome.warnings.count, 2);
    assert_string_equal(f->outcome.warnings.items[0],
                        "two.example: data sampled: GA4 computed the figures from a sample of "
                        "events (property 310000002; summary, site_summary)");
    assert_string_equal(f->outcome.warnings.items[1], "thresholded: applied somewhere (summary)");
    assert_non_null(strstr(sd_outcome_quality(&f->outcome, "ga"), "sampled and some as "
                                                                   "thresholded"));
    assert_null(sd_outcome_quality(&f->outcome, "youtube"));
}

static void outcome_request_warnings_first(void **state)
{
    fixture *f = *state;
    sd_strings_push(&f->replies[0]->as.fetch_reply.warnings, "sampled data");
    s_compute(f);
    assert_string_equal(sd_outcome_quality(&f->outcome, "ga"),
                        "GA4 marked none of the figures as sampled or thresholded.");
    sd_strings late = {0};
    sd_strings_push(&late, "sent 2 days late: two.example has no data for hours 14-23");
    sd_strings_push(&late, "one.example: sampled data");
    assert_int_equal(sd_outcome_add_request_warnings(&f->outcome, &late), 0);
    assert_int_equal(f->outcome.warnings.count, 2);
    assert_string_equal(f->outcome.warnings.items[0], late.items[0]);
    assert_string_equal(f->outcome.warnings.items[1], "one.example: sampled data");
    sd_strings_clear(&late);
}

static void compose_reply_outputs(void **state)
{
    fixture *f = *state;
    fixture_add_missing(f->tables[f->summary], "two.example", "previous", "quota exceeded");
    s_compute(f);
    sd_report_request *request = &f->request->as.report_request;
    sd_strings_push(&request->formats, "json");
    sd_strings_push(&request->formats, "html");
    sd_msg *msg = sd_compose_reply(f->plan, f->tables, &f->outcome, request);
    assert_non_null(msg);
    const sd_report_reply *reply = &msg->as.report_reply;
    assert_string_equal(reply->request_id, "r7");
    assert_string_equal(reply->status, "partial");
    assert_string_equal(reply->subject, "Statsdash ga-core: Tue 01 Dec 2026");
    assert_int_equal(reply->output_count, 2);
    assert_string_equal(reply->outputs[0].format, "json");
    assert_string_equal(reply->outputs[0].content_type, "application/json");
    assert_string_equal(reply->outputs[1].content_type, "text/html; charset=utf-8");
    assert_true(reply->outputs[1].body_size > 0);
    assert_int_equal(reply->missing.count, 1);
    assert_int_equal(reply->warnings.count, 1);

    uint8_t *data = NULL;
    size_t size = 0;
    sd_proto_error err;
    assert_int_equal(sd_msg_encode(msg, &data, &size, &err), 0);
    free(data);
    sd_msg_destroy(&msg);
}

//  The subject of the request names the report in the reply and in the
//  HTML and JSON written to a file.
static void compose_request_subject(void **state)
{
    fixture *f = *state;
    s_compute(f);
    sd_report_request *request = &f->request->as.report_request;
    request->subject = strdup("Weekly <figures> & more");
    sd_strings_push(&request->formats, "json");
    sd_strings_push(&request->formats, "html");
    sd_msg *msg = sd_compose_reply(f->plan, f->tables, &f->outcome, request);
    assert_non_null(msg);
    const sd_report_reply *reply = &msg->as.report_reply;
    assert_string_equal(reply->subject, "Weekly <figures> & more");
    char *json = strndup((const char *)reply->outputs[0].body, reply->outputs[0].body_size);
    char *html = strndup((const char *)reply->outputs[1].body, reply->outputs[1].body_size);
    assert_non_null(strstr(json, "\"subject\": \"Weekly <figures> & more\""));
    assert_non_null(strstr(html, "<title>Weekly &lt;figures&gt; &amp; more</title>"));
    assert_null(strstr(html, "Statsdash ga-core: Tue 01 Dec 2026"));
    free(json);
    free(html);
    sd_msg_destroy(&msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(outcome_complete_without_warnings, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(outcome_missing_parts_grouped, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(outcome_table_never_arrived, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(outcome_failed_job_named_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(outcome_silent_worker_warned, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(outcome_site_without_data, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(outcome_empty_parts_grouped, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(outcome_sampling_named_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(outcome_request_warnings_first, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(compose_reply_outputs, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(compose_request_subject, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
