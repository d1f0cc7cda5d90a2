/*  Planning every report type: which tables, their periods, the API
    filters and the aggregator specs, and the second-stage jobs of the
    dependent tables.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"
#include "sd_filters.h"
#include "sd_plan.h"

static const char *const s_sites[] = {"alpha.example", "beta.example", "gamma.example"};

typedef struct {
    sd_config *config;
    sd_msg *request;
    sd_plan *plan;
} fixture;

static void s_set(char **field, const char *value)
{
    free(*field);
    *field = strdup(value);
}

static int s_setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->config = fixture_config(s_sites, 3, 4000, 1500);
    f->request = sd_msg_new(SD_MSG_REPORT_REQUEST);
    sd_report_request *r = &f->request->as.report_request;
    r->request_id = strdup("r42");
    r->report = strdup("ga-core");
    r->frequency = strdup("WOW_DAILY");
    r->date = strdup("2026-12-01");
    r->delivery_id = strdup("");
    r->yearly_alignment = strdup("calendar");
    r->deadline_ms = INT64_C(1800000000000);
    sd_strings_push(&r->sites, "all");
    *state = f;
    return f->config ? 0 : -1;
}

static int s_teardown(void **state)
{
    fixture *f = *state;
    sd_plan_destroy(&f->plan);
    sd_msg_destroy(&f->request);
    sd_config_destroy(&f->config);
    free(f);
    return 0;
}

//  Plans the fixture's request as report/frequency/date.
static sd_plan *s_plan(fixture *f, const char *report, const char *frequency, const char *date)
{
    sd_report_request *r = &f->request->as.report_request;
    s_set(&r->report, report);
    s_set(&r->frequency, frequency);
    s_set(&r->date, date);
    sd_plan_error err;
    sd_plan_destroy(&f->plan);
    f->plan = sd_plan_new(r, f->config, "rep1", &err);
    if (!f->plan)
        fail_msg("plan rejected: %s: %s", err.field, err.text);
    return f->plan;
}

static void s_expect_tables(const sd_plan *plan, const char *const *names, size_t count)
{
    assert_int_equal(plan->table_count, count);
    for (size_t i = 0; i < count; i++)
        assert_string_equal(plan->tables[i].def->name, names[i]);
}

//  Returns the query of the first job that feeds the named table.
static const sd_query *s_query(const sd_plan *plan, size_t job, const char *name)
{
    char table_id[128];
    snprintf(table_id, sizeof table_id, "%s.%s", plan->id_prefix, name);
    const sd_fetch_request *fetch = &plan->jobs[job]->as.fetch_request;
    for (size_t i = 0; i < fetch->query_count; i++) {
        if (strcmp(fetch->queries[i].table_id, table_id) == 0)
            return &fetch->queries[i];
    }
    return NULL;
}

static void s_expect_period(const sd_query *query, size_t index, const char *label,
                            const char *start, const char *end)
{
    assert_true(index < query->period_count);
    assert_string_equal(query->periods[index].label, label);
    assert_string_equal(query->periods[index].start, start);
    assert_string_equal(query->periods[index].end, end);
}

static const sd_rule *s_rule(const sd_query *query, const char *name)
{
    for (size_t i = 0; i < query->spec.rule_count; i++) {
        if (strcmp(query->spec.rules[i].name, name) == 0)
            return &query->spec.rules[i];
    }
    return NULL;
}

static json_t *s_filter(const sd_query *query)
{
    json_t *params = json_loads(query->params_json, 0, NULL);
    assert_non_null(params);
    json_t *filter = json_incref(json_object_get(params, "dimensionFilter"));
    json_decref(params);
    return filter;
}

//  Checks a leaf {"filter": {"fieldName": field, "stringFilter": ...}}.
static void s_expect_string_filter(json_t *leaf, const char *field, const char *match_type,
                                   const char *value)
{
    json_t *filter = json_object_get(leaf, "filter");
    assert_string_equal(json_string_value(json_object_get(filter, "fieldName")), field);
    json_t *string = json_object_get(filter, "stringFilter");
    assert_string_equal(json_string_value(json_object_get(string, "matchType")), match_type);
    assert_string_equal(json_string_value(json_object_get(string, "value")), value);
    assert_true(json_is_true(json_object_get(string, "caseSensitive")));
}

//  Checks an inListFilter leaf on sessionSource with the given values.
static void s_expect_in_list(json_t *leaf, const char *const *values, size_t count)
{
    json_t *filter = json_object_get(leaf, "filter");
    assert_string_equal(json_string_value(json_object_get(filter, "fieldName")),
                        "sessionSource");
    json_t *list = json_object_get(json_object_get(filter, "inListFilter"), "values");
    assert_int_equal(json_array_size(list), count);
    for (size_t i = 0; i < count; i++)
        assert_string_equal(json_string_value(json_array_get(list, i)), values[i]);
}

//  Checks the negated path blacklist of the default config.
static void s_expect_default_paths(json_t *expression)
{
    static const char *const matches[] = {"EXACT", "FULL_REGEXP", "BEGINS_WITH", "BEGINS_WITH",
                                          "BEGINS_WITH", "BEGINS_WITH"};
    static const char *const values[] = {"/", "/page/[0-9]+/?", "/?", "/forum", "/login.php",
                                         "/cookies.php"};
    json_t *any = json_object_get(json_object_get(expression, "notExpression"), "orGroup");
    json_t *leaves = json_object_get(any, "expressions");
    assert_int_equal(json_array_size(leaves), 6);
    for (size_t i = 0; i < 6; i++)
        s_expect_string_filter(json_array_get(leaves, i), "pagePath", matches[i], values[i]);
}

static void filters_path_patterns(void **state)
{
    (void)state;
    static const struct {
        const char *pattern;
        const char *match_type;     //  NULL: stays a rule
        const char *value;
    } cases[] = {
        {"^/$", "EXACT", "/"},
        {"^/forum", "BEGINS_WITH", "/forum"},
        {"^/login\\.php", "BEGINS_WITH", "/login.php"},
        {"^/\\?", "BEGINS_WITH", "/?"},
        {"^/page/[0-9]+/?$", "FULL_REGEXP", "/page/[0-9]+/?"},
        {"^/tag/[a-z-]+$", "FULL_REGEXP", "/tag/[a-z-]+"},
        {"review-3[0-9]", NULL, NULL},
        {"^/a|^/b", NULL, NULL},
        {"^/x[\\d]$", NULL, NULL},
        {"^/a\\d+$", NULL, NULL},
        {"^/page/[0-9]+", NULL, NULL},
        {"^/a$|/b$", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char value[64];
        const char *match_type = NULL;
        bool translated = sd_filters_path_pattern(cases[i].pattern, &match_type, value,
                                                  sizeof value);
        if (!cases[i].match_type) {
            if (translated)
                fail_msg("%s translated to %s %s", cases[i].pattern, match_type, value);
            continue;
        }
        if (!translated)
            fail_msg("%s not translated", cases[i].pattern);
        assert_string_equal(match_type, cases[i].match_type);
        assert_string_equal(value, cases[i].value);
    }
}

static void ga_core_daily_tables(void **state)
{
    fixture *f = *state;
    const sd_plan *plan = s_plan(f, "ga-core", "WOW_DAILY", "2026-12-01");
    static const char *const names[] = {
        "summary",         "month_to_date",      "site_summary", "country",
        "top_articles",    "traffic_sources",    "referring_sites", "referring_articles",
        "devices",         "social_networks",    "social_articles"};
    s_expect_tables(plan, names, sizeof names / sizeof names[0]);
    assert_int_equal(plan->job_count, 3);
    //  Dependent tables wait for their parents.
    int articles = sd_plan_find_table(plan, fixture_id(plan, "referring_articles"));
    assert_false(plan->tables[articles].planned);
    assert_int_equal(plan->tables[articles].parent,
                     sd_plan_find_table(plan, fixture_id(plan, "referring_sites")));
    assert_null(s_query(plan, 0, "referring_articles"));
    assert_int_equal(plan->job_capacity, 3 + 2 * 3);

    const sd_query *mtd = s_query(plan, 0, "month_to_date");
    s_expect_period(mtd, 0, "current", "2026-12-01", "2026-12-01");
    s_expect_period(mtd, 1, "previous", "2025-12-01", "2025-12-31");
    s_expect_period(mtd, 2, "yearly", "2025-12-01", "2025-12-01");
    assert_int_equal(mtd->spec.derived_count, 3);
}

static void ga_core_top_articles_query(void **state)
{
    fixture *f = *state;
    const sd_plan *plan = s_plan(f, "ga-core", "WOW_DAILY", "2026-12-01");
    const sd_query *query = s_query(plan, 1, "top_articles");
    assert_non_null(query);
    assert_int_equal(query->dimensions.count, 2);
    assert_string_equal(query->dimensions.items[0], "pagePath");
    assert_string_equal(query->dimensions.items[1], "pageTitle");
    //  A one-day report compares articles with the day before, not D-7.
    assert_int_equal(query->period_count, 2);
    s_expect_period(query, 0, "current", "2026-12-01", "2026-12-01");
    s_expect_period(query, 1, "previous", "2026-11-30", "2026-11-30");
    assert_int_equal(query->spec.compare.count, 1);
    assert_int_equal(query->spec.limit, 20);
    assert_string_equal(query->spec.sort[0].column, "pageviews");

    json_t *filter = s_filter(query);
    s_expect_default_paths(filter);
    json_decref(filter);
    //  Every default pattern is an API filter, so no path_blacklist rule.
    assert_null(s_rule(query, "path_blacklist"));
    assert_non_null(s_rule(query, "strip_query"));
    assert_non_null(s_rule(query, "decode_entities"));
    assert_non_null(s_rule(query, "amp_title"));
    const sd_rule *title = s_rule(query, "top_title");
    assert_non_null(title);
    assert_int_equal(title->args.count, 3);
    assert_string_equal(title->args.items[2], "screenPageViews");
    assert_int_equal(query->spec.keys.count, 3);
    assert_string_equal(query->spec.keys.items[0], "site");
}

static void ga_core_country_and_sources(void **state)
{
    fixture *f = *state;
    const sd_plan *plan = s_plan(f, "ga-core", "WEEKLY", "2026-11-29");
    const sd_query *country = s_query(plan, 0, "country");
    const sd_rule *world = s_rule(country, "rest_of_world");
    assert_non_null(world);
    assert_string_equal(world->args.items[0], "country");
    assert_int_equal(world->args.count, 1 + f->config->ga.countries.count);
    assert_string_equal(world->args.items[1], f->config->ga.countries.items[0]);
    assert_string_equal(country->spec.derived[3].name, "pv_per_visitor");
    assert_string_equal(country->spec.derived[3].b, "totalUsers");
    assert_string_equal(country->params_json, "{}");

    const sd_query *referrers = s_query(plan, 0, "referring_sites");
    json_t *filter = s_filter(referrers);
    static const char *const blacklist[] = {"google", "(direct)"};
    s_expect_in_list(json_object_get(filter, "notExpression"), blacklist, 2);
    json_decref(filter);
    assert_int_equal(referrers->spec.limit, 5);

    const sd_query *sources = s_query(plan, 0, "traffic_sources");
    assert_string_equal(sources->dimensions.items[0], "sessionSourceMedium");
    assert_int_equal(sources->spec.limit, 10);
    const sd_query *devices = s_query(plan, 0, "devices");
    assert_int_equal(devices->spec.limit, 6);
    assert_string_equal(devices->spec.derived[1].op, "share");
}

static void ga_core_social_query(void **state)
{
    fixture *f = *state;
    const sd_plan *plan = s_plan(f, "ga-core", "WEEKLY", "2026-11-29");
    const sd_query *social = s_query(plan, 0, "social_networks");
    json_t *filter = s_filter(social);
    s_expect_string_filter(filter, "sessionDefaultChannelGroup", "EXACT", "Organic Social");
    json_decref(filter);
    const sd_rule *map = s_rule(social, "map_values");
    assert_non_null(map);
    assert_int_equal(map->args.count, 1 + 2 * f->config->ga.social_source_count);
    assert_string_equal(map->args.items[1], f->config->ga.social_sources[0].source);
    assert_string_equal(map->args.items[2], f->config->ga.social_sources[0].network);
    assert_int_equal(social->spec.limit, 15);
    //  share_of_all_users is added by the reporter, not the aggregator.
    assert_int_equal(social->spec.derived_count, 4);
    assert_string_equal(social->spec.derived[3].name, "share_of_social_users");
}

static void ga_core_monthly_tables(void **state)
{
    fixture *f = *state;
    const sd_plan *plan = s_plan(f, "ga-core", "MONTHLY", "2026-11-30");
    assert_int_equal(sd_plan_find_table(plan, fixture_id(plan, "month_to_date")), -1);
    const sd_query *devices = s_query(plan, 0, "device_months");
    assert_non_null(devices);
    assert_int_equal(devices->period_count, 1);
    s_expect_period(devices, 0, "current", "2025-12-01", "2026-11-30");
    assert_string_equal(devices->dimensions.items[0], "date");
    const sd_query *articles = s_query(plan, 0, "top_articles");
    s_expect_period(articles, 1, "previous", "2026-10-01", "2026-10-31");
}

static void ga_core_some_sites_network(void **state)
{
    fixture *f = *state;
    sd_strings_clear(&f->request->as.report_request.sites);
    sd_strings_push(&f->request->as.report_request.sites, "gamma.example");
    const sd_plan *plan = s_plan(f, "ga-core", "DAILY", "2026-12-01");
    int network = sd_plan_find_table(plan, fixture_id(plan, "network_summary"));
    assert_true(network >= 0);
    assert_int_equal(plan->tables[network].expected_parts, 9);
    assert_int_equal(plan->job_count, 3);
    assert_string_equal(plan->jobs[0]->as.fetch_request.site, "gamma.example");
    assert_string_equal(plan->jobs[1]->as.fetch_request.site, "alpha.example");
    assert_int_equal(plan->jobs[1]->as.fetch_request.query_count, 1);
    assert_non_null(s_query(plan, 1, "network_summary"));
    assert_null(s_query(plan, 1, "summary"));
}

//  Builds a parent table with one key column and the given values.
static sd_msg *s_parent(const char *column, const char *const *values, size_t count)
{
    sd_msg *msg = sd_msg_new(SD_MSG_TABLE_NORMALIZED);
    sd_column columns[] = {{(char *)column, SD_COLUMN_DIMENSION, ""},
                           {"users", SD_COLUMN_METRIC, "count"}};
    sd_table_data_init(&msg->as.table_normalized.data, columns, 2, count);
    for (size_t i = 0; i < count; i++) {
        sd_value *cells = sd_table_data_append_row(&msg->as.table_normalized.data);
        sd_value_set_string(&cells[0], values[i], strlen(values[i]));
        cells[1].kind = SD_VALUE_INT;
        cells[1].as.i = (int64_t)(100 - i);
    }
    return msg;
}

//  Returns the job's query of the given table name, or NULL.
static const sd_query *s_job_query(const sd_plan *plan, size_t job, const char *name)
{
    const sd_fetch_request *request = &plan->jobs[job]->as.fetch_request;
    const char *id = fixture_id(plan, name);
    for (size_t q = 0; q < request->query_count; q++) {
        if (strcmp(request->queries[q].table_id, id) == 0)
            return &request->queries[q];
    }
    return NULL;
}

//  Passes the two parent tables of ga-core's dependent tables to the plan,
//  referring_sites first (which plans nothing yet) and then social_networks.
//  Returns the number of jobs the second parent planned.
static int s_plan_both_parents(sd_plan *plan, sd_msg *referrers, sd_msg *networks)
{
    int referring = sd_plan_find_table(plan, fixture_id(plan, "referring_sites"));
    int social = sd_plan_find_table(plan, fixture_id(plan, "social_networks"));
    assert_int_equal(sd_plan_dependents(plan, (size_t)referring,
                                        &referrers->as.table_normalized), 0);
    return sd_plan_dependents(plan, (size_t)social, &networks->as.table_normalized);
}

static void dependents_referring_articles(void **state)
{
    fixture *f = *state;
    sd_plan *plan = s_plan(f, "ga-core", "WOW_DAILY", "2026-12-01");
    static const char *const sources[] = {"t.co", "news.example"};
    static const char *const networks[] = {"reddit"};
    sd_msg *parent = s_parent("sessionSource", sources, 2);
    sd_msg *social = s_parent("sessionSource", networks, 1);
    size_t first = plan->job_count;
    assert_int_equal(s_plan_both_parents(plan, parent, social), 3);
    assert_int_equal(plan->job_count, first + 3);
    for (size_t j = first; j < plan->job_count; j++) {
        const sd_fetch_request *job = &plan->jobs[j]->as.fetch_request;
        char id[128];
        snprintf(id, sizeof id, "%s.%s.dependents", plan->id_prefix, s_sites[j - first]);
        assert_string_equal(job->job_id, id);
        //  The job contains both dependent tables, with one query each for
        //  any number of sources.
        assert_int_equal(job->query_count, 2);
        const sd_query *query = s_job_query(plan, j, "referring_articles");
        assert_non_null(query);
        assert_non_null(s_job_query(plan, j, "social_articles"));
        json_t *filter = s_filter(query);
        json_t *all = json_object_get(json_object_get(filter, "andGroup"), "expressions");
        assert_int_equal(json_array_size(all), 2);
        s_expect_in_list(json_array_get(all, 0), sources, 2);
        s_expect_default_paths(json_array_get(all, 1));
        json_decref(filter);
        assert_int_equal(query->expected_parts, 6);
    }
    int articles = sd_plan_find_table(plan, fixture_id(plan, "referring_articles"));
    assert_true(plan->tables[articles].planned);
    assert_false(plan->tables[articles].empty);
    assert_int_equal(sd_plan_find_job(plan, fixture_id(plan, "beta.example.dependents")),
                     (int)first + 1);
    //  A parent is planned once.
    int index = sd_plan_find_table(plan, fixture_id(plan, "referring_sites"));
    assert_int_equal(sd_plan_dependents(plan, (size_t)index, &parent->as.table_normalized), 0);
    sd_msg_destroy(&social);
    sd_msg_destroy(&parent);
}

static void dependents_social_sources(void **state)
{
    fixture *f = *state;
    sd_plan *plan = s_plan(f, "ga-core", "WOW_DAILY", "2026-12-01");
    static const char *const sources[] = {"t.co"};
    static const char *const networks[] = {"reddit"};
    sd_msg *referrers = s_parent("sessionSource", sources, 1);
    sd_msg *parent = s_parent("sessionSource", networks, 1);
    size_t first = plan->job_count;
    assert_int_equal(s_plan_both_parents(plan, referrers, parent), 3);
    const sd_query *query = s_job_query(plan, first, "social_articles");
    assert_non_null(query);
    json_t *filter = s_filter(query);
    json_t *all = json_object_get(json_object_get(filter, "andGroup"), "expressions");
    assert_int_equal(json_array_size(all), 3);
    s_expect_string_filter(json_array_get(all, 0), "sessionDefaultChannelGroup", "EXACT",
                           "Organic Social");
    //  The sources the default map gives reddit.
    static const char *const mapped[] = {"reddit.com", "old.reddit.com"};
    s_expect_in_list(json_array_get(all, 1), mapped, 2);
    json_decref(filter);
    assert_non_null(s_rule(query, "map_values"));
    assert_non_null(s_rule(query, "top_title"));
    sd_msg_destroy(&referrers);
    sd_msg_destroy(&parent);
}

static void dependents_empty_parent(void **state)
{
    fixture *f = *state;
    sd_plan *plan = s_plan(f, "ga-core", "WOW_DAILY", "2026-12-01");
    sd_msg *parent = s_parent("sessionSource", NULL, 0);
    //  A network missing from the map has no sources to filter on.
    static const char *const networks[] = {"Nowhere"};
    sd_msg *unknown = s_parent("sessionSource", networks, 1);
    size_t jobs = plan->job_count;
    assert_int_equal(s_plan_both_parents(plan, parent, unknown), 0);
    assert_int_equal(plan->job_count, jobs);
    int articles = sd_plan_find_table(plan, fixture_id(plan, "referring_articles"));
    assert_true(plan->tables[articles].empty);
    sd_msg *empty = sd_plan_empty_table(plan, (size_t)articles);
    assert_non_null(empty);
    assert_string_equal(empty->as.table_normalized.table_id, fixture_id(plan, "referring_articles"));
    assert_int_equal(empty->as.table_normalized.data.row_count, 0);
    sd_msg_destroy(&empty);
    assert_true(plan->tables[sd_plan_find_table(plan, fixture_id(plan, "social_articles"))].empty);
    sd_msg_destroy(&unknown);
    sd_msg_destroy(&parent);
}

//  When one dependent table has nothing to fetch, each job of the other
//  table has one query, named for that table.
static void dependents_one_empty(void **state)
{
    fixture *f = *state;
    sd_plan *plan = s_plan(f, "ga-core", "WOW_DAILY", "2026-12-01");
    static const char *const sources[] = {"t.co"};
    sd_msg *referrers = s_parent("sessionSource", sources, 1);
    sd_msg *networks = s_parent("sessionSource", NULL, 0);
    size_t first = plan->job_count;
    assert_int_equal(s_plan_both_parents(plan, referrers, networks), 3);
    const sd_fetch_request *job = &plan->jobs[first]->as.fetch_request;
    assert_int_equal(job->query_count, 1);
    char id[128];
    snprintf(id, sizeof id, "%s.%s.referring_articles", plan->id_prefix, s_sites[0]);
    assert_string_equal(job->job_id, id);
    assert_true(plan->tables[sd_plan_find_table(plan, fixture_id(plan, "social_articles"))].empty);
    sd_msg_destroy(&networks);
    sd_msg_destroy(&referrers);
}

static void ga_social_tables(void **state)
{
    fixture *f = *state;
    sd_strings_clear(&f->request->as.report_request.sites);
    sd_strings_push(&f->request->as.report_request.sites, "beta.example");
    const sd_plan *plan = s_plan(f, "ga-social", "WEEKLY", "2026-11-29");
    static const char *const names[] = {"summary",         "network_summary",
                                        "social_networks", "social_articles",
                                        "social_days",     "network_social_days"};
    s_expect_tables(plan, names, sizeof names / sizeof names[0]);
    const sd_query *days = s_query(plan, 0, "social_days");
    assert_string_equal(days->dimensions.items[0], "date");
    assert_int_equal(days->period_count, 1);
    s_expect_period(days, 0, "current", "2026-11-23", "2026-11-29");
    assert_string_equal(days->spec.sort[0].column, "date");
    assert_false(days->spec.sort[0].descending);
    assert_non_null(s_query(plan, 1, "network_social_days"));
    int articles = sd_plan_find_table(plan, fixture_id(plan, "social_articles"));
    assert_int_equal(plan->tables[articles].def->group_limit, 10);
    assert_int_equal(plan->tables[articles].def->parent_rows, 0);
}

static void ga_year_social_months(void **state)
{
    fixture *f = *state;
    const sd_plan *plan = s_plan(f, "ga-year-social", "MONTHLY", "2026-11-30");
    static const char *const names[] = {"social_months"};
    s_expect_tables(plan, names, 1);
    const sd_query *query = s_query(plan, 0, "social_months");
    s_expect_period(query, 0, "current", "2023-12-01", "2026-11-30");
    assert_int_equal(query->period_count, 1);
    assert_int_equal(query->dimensions.count, 2);
    assert_non_null(s_rule(query, "map_values"));
    json_t *filter = s_filter(query);
    s_expect_string_filter(filter, "sessionDefaultChannelGroup", "EXACT", "Organic Social");
    json_decref(filter);
}

static void ga_social_export_months(void **state)
{
    fixture *f = *state;
    const sd_plan *plan = s_plan(f, "ga-social-export", "DAILY", "2026-12-01");
    assert_true(plan->report->csv_single_table);
    const sd_query *query = s_query(plan, 0, "social_export");
    s_expect_period(query, 0, "current", "2026-01-01", "2026-12-01");
    assert_int_equal(query->spec.sum.count, 2);
}

//  Writes a config whose path blacklist has one pattern the API cannot
//  express, and no source blacklist.
static sd_config *s_custom_config(void)
{
    char path[] = "/tmp/reporter-test-config-XXXXXX";
    int fd = mkstemp(path);
    FILE *file = fdopen(fd, "w");
    fputs("{\"ga\": {\"sites\": {\"alpha.example\": [{\"property\": \"310000001\"}]},\n"
          " \"article_path_blacklist\": [\"^/forum\", \"/tag/|/author/\"],\n"
          " \"source_blacklist\": []}}\n",
          file);
    fclose(file);
    sd_config_error err;
    sd_config *config = sd_config_load(path, &err);
    unlink(path);
    if (!config)
        fail_msg("config rejected: %s: %s", err.key, err.text);
    return config;
}

static void custom_blacklists(void **state)
{
    fixture *f = *state;
    sd_config_destroy(&f->config);
    f->config = s_custom_config();
    const sd_plan *plan = s_plan(f, "ga-core", "WOW_DAILY", "2026-12-01");
    const sd_query *articles = s_query(plan, 0, "top_articles");
    const sd_rule *rule = s_rule(articles, "path_blacklist");
    assert_non_null(rule);
    assert_int_equal(rule->args.count, 2);
    assert_string_equal(rule->args.items[0], "pagePath");
    assert_string_equal(rule->args.items[1], "/tag/|/author/");
    json_t *filter = s_filter(articles);
    json_t *any = json_object_get(json_object_get(filter, "notExpression"), "orGroup");
    json_t *leaves = json_object_get(any, "expressions");
    assert_int_equal(json_array_size(leaves), 1);
    s_expect_string_filter(json_array_get(leaves, 0), "pagePath", "BEGINS_WITH", "/forum");
    json_decref(filter);
    //  An empty source blacklist needs no filter.
    assert_string_equal(s_query(plan, 0, "referring_sites")->params_json, "{}");
}

static sd_config *s_youtube_config(void)
{
    char path[] = "/tmp/reporter-test-config-XXXXXX";
    int fd = mkstemp(path);
    FILE *file = fdopen(fd, "w");
    //  The token files are only named: planning does not read them.
    fputs("{\"youtube\": {\"channels\": {\n"
          "  \"Games TV\": [{\"id\": \"UCgames00000000000000001\",\n"
          "                \"refresh_token_file\": \"/nonexistent/1.token\"},\n"
          "               {\"id\": \"UCgames00000000000000002\",\n"
          "                \"refresh_token_file\": \"/nonexistent/2.token\"}],\n"
          "  \"Retro Clips\": [{\"id\": \"UCretro00000000000000003\",\n"
          "                   \"refresh_token_file\": \"/nonexistent/3.token\"}]}}}\n",
          file);
    fclose(file);
    sd_config_error err;
    sd_config *config = sd_config_load(path, &err);
    unlink(path);
    if (!config)
        fail_msg("config rejected: %s: %s", err.key, err.text);
    return config;
}

static void youtube_tables(void **state)
{
    fixture *f = *state;
    sd_config_destroy(&f->config);
    f->config = s_youtube_config();
    const sd_plan *plan = s_plan(f, "youtube", "WEEKLY", "2026-11-29");
    static const char *const names[] = {"channel_summary", "channel_subscribers",
                                        "channel_stats",   "country",
                                        "top_videos",      "video_titles",
                                        "traffic_sources"};
    s_expect_tables(plan, names, sizeof names / sizeof names[0]);
    assert_int_equal(plan->job_count, 2);
    assert_string_equal(plan->jobs[0]->as.fetch_request.service, "youtube");
    assert_string_equal(plan->jobs[1]->as.fetch_request.site, "Retro Clips");

    const sd_query *summary = s_query(plan, 0, "channel_summary");
    assert_string_equal(summary->api, "youtube.reports");
    assert_string_equal(summary->spec.derived[1].op, "difference");
    assert_string_equal(summary->spec.derived[1].a, "subscribersGained");
    assert_string_equal(summary->spec.derived[1].b, "subscribersLost");
    assert_string_equal(summary->spec.sort[0].column, "watch_time");

    const sd_query *subscribers = s_query(plan, 0, "channel_subscribers");
    assert_string_equal(subscribers->api, "youtube.channels");
    assert_int_equal(subscribers->metrics.count, 1);
    assert_string_equal(subscribers->metrics.items[0], "subscriberCount");
    assert_int_equal(subscribers->dimensions.count, 0);

    const sd_query *stats = s_query(plan, 0, "channel_stats");
    assert_string_equal(stats->spec.derived[1].name, "like_dislike_ratio");
    assert_string_equal(stats->spec.derived[1].b, "dislikes");
    assert_string_equal(stats->spec.derived[2].name, "likes_per_1000");
    assert_true(stats->spec.derived[2].scale == 1000.0);

    const sd_query *videos = s_query(plan, 0, "top_videos");
    assert_int_equal(videos->limit, 10);
    assert_int_equal(videos->dimensions.count, 1);
    assert_string_equal(videos->dimensions.items[0], "video");
    assert_int_equal(videos->spec.keys.count, 2);
    assert_string_equal(videos->spec.keys.items[1], "video");
    assert_string_equal(videos->params_json, "{\"sort\":\"-estimatedMinutesWatched\"}");
    assert_int_equal(videos->spec.compare.count, 0);
    assert_int_equal(videos->period_count, 1);

    const sd_query *country = s_query(plan, 0, "country");
    assert_int_equal(country->spec.limit, 20);
    const sd_query *sources = s_query(plan, 0, "traffic_sources");
    const sd_rule *matrix = s_rule(sources, "share_matrix");
    assert_non_null(matrix);
    assert_string_equal(matrix->args.items[0], "site");
    assert_string_equal(matrix->args.items[1], "insightTrafficSourceType");
    assert_string_equal(matrix->args.items[2], "estimatedMinutesWatched");
}

//  One job on the first channel fetches the titles of the top videos for
//  any number of channels, using the video ids of the parent rows.
static void youtube_titles_one_job(void **state)
{
    fixture *f = *state;
    sd_config_destroy(&f->config);
    f->config = s_youtube_config();
    sd_plan *plan = s_plan(f, "youtube", "MONTHLY", "2026-11-30");
    int titles = sd_plan_find_table(plan, fixture_id(plan, "video_titles"));
    assert_true(titles >= 0);
    assert_true(plan->tables[titles].def->hidden);
    assert_int_equal(plan->tables[titles].expected_parts, 1);
    static const char *const videos[] = {"vid-a", "vid-b", "vid-c"};
    sd_msg *parent = s_parent("video", videos, 3);
    int top = sd_plan_find_table(plan, fixture_id(plan, "top_videos"));
    size_t first = plan->job_count;
    assert_int_equal(sd_plan_dependents(plan, (size_t)top, &parent->as.table_normalized), 1);
    assert_int_equal(plan->job_count, first + 1);

    const sd_fetch_request *job = &plan->jobs[first]->as.fetch_request;
    assert_string_equal(job->site, plan->sites.items[0]);
    assert_int_equal(job->query_count, 1);
    const sd_query *query = s_job_query(plan, first, "video_titles");
    assert_non_null(query);
    assert_string_equal(query->api, "youtube.videos");
    assert_string_equal(query->params_json, "{\"ids\":[\"vid-a\",\"vid-b\",\"vid-c\"]}");
    assert_int_equal(query->period_count, 1);
    assert_int_equal(query->expected_parts, 1);
    sd_msg_destroy(&parent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(filters_path_patterns),
        cmocka_unit_test_setup_teardown(ga_core_daily_tables, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(ga_core_top_articles_query, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(ga_core_country_and_sources, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(ga_core_social_query, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(ga_core_monthly_tables, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(ga_core_some_sites_network, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(dependents_referring_articles, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(dependents_social_sources, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(dependents_empty_parent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(dependents_one_empty, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(ga_social_tables, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(ga_year_social_months, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(ga_social_export_months, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(custom_blacklists, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(youtube_tables, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(youtube_titles_one_job, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
