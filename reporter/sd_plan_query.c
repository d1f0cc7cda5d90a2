/*  sd_plan_query: the sd_query of one planned table.  */
#include "sd_plan_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_filters.h"

static char *s_join(const char *a, const char *separator, const char *b)
{
    size_t size = strlen(a) + strlen(separator) + strlen(b) + 1;
    char *text = malloc(size);
    if (text)
        snprintf(text, size, "%s%s%s", a, separator, b);
    return text;
}

//  Returns the date range of a period label in the table's periods.
static const sd_date_range *s_range(const sd_plan_table *table, const char *label)
{
    if (strcmp(label, "previous") == 0)
        return &table->periods.previous;
    if (strcmp(label, "yearly") == 0)
        return &table->periods.yearly;
    return &table->periods.current;
}

static int s_fill_period(sd_period *period, const sd_plan_table *table, const char *label)
{
    const sd_date_range *range = s_range(table, label);
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
        if (metric->local)
            continue;
        sd_derived *derived = &spec->derived[spec->derived_count++];
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

//  Pushes the config values a rule takes after its fixed arguments.
static int s_push_rule_source(sd_strings *args, sd_rule_source source, const sd_config *config)
{
    const sd_config_ga *ga = &config->ga;
    if (source == SD_RULE_ARGS_COUNTRIES) {
        for (size_t i = 0; i < ga->countries.count; i++) {
            if (sd_strings_push(args, ga->countries.items[i]) != 0)
                return -1;
        }
    } else if (source == SD_RULE_ARGS_SOCIAL_MAP) {
        for (size_t i = 0; i < ga->social_source_count; i++) {
            if (sd_strings_push(args, ga->social_sources[i].source) != 0 ||
                sd_strings_push(args, ga->social_sources[i].network) != 0)
                return -1;
        }
    } else if (source == SD_RULE_ARGS_PATH_PATTERNS) {
        return sd_filters_rule_patterns(config, args);
    }
    return 0;
}

//  Fills the spec's rules. A path_blacklist rule without patterns is left
//  out, because the API filter covers every pattern.
static int s_fill_rules(sd_table_spec *spec, const sd_table_def *def, const sd_config *config)
{
    size_t count = sd_table_def_rule_count(def);
    spec->rules = calloc(count ? count : 1, sizeof *spec->rules);
    if (!spec->rules)
        return -1;
    for (size_t i = 0; i < count; i++) {
        const sd_rule_def *source = &def->rules[i];
        sd_rule *rule = &spec->rules[spec->rule_count++];
        rule->name = strdup(source->name);
        if (!rule->name || s_push_list(&rule->args, source->args, 4) != 0)
            return -1;
        size_t fixed = rule->args.count;
        if (s_push_rule_source(&rule->args, source->source, config) != 0)
            return -1;
        if (source->source == SD_RULE_ARGS_PATH_PATTERNS && rule->args.count == fixed) {
            free(rule->name);
            sd_strings_clear(&rule->args);
            *rule = (sd_rule){0};
            spec->rule_count--;
        }
    }
    return 0;
}

static int s_fill_spec(sd_table_spec *spec, const sd_table_def *def, const sd_config *config)
{
    for (size_t i = 0; i < sd_table_def_key_count(def); i++) {
        if (!def->keys[i].local && sd_strings_push(&spec->keys, def->keys[i].name) != 0)
            return -1;
    }
    if (s_push_list(&spec->sum, def->sum, SD_CATALOG_MAX_ITEMS) != 0 ||
        s_push_list(&spec->compare, def->compare, 3) != 0 || s_fill_derived(spec, def) != 0 ||
        s_fill_rules(spec, def, config) != 0)
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

int sd_plan_query_fill(sd_query *query, const sd_plan *plan, const sd_plan_table *table,
                       const sd_strings *parent_values, bool *empty)
{
    const sd_table_def *def = table->def;
    const sd_query_def *source = def->query;
    query->id = s_join(source->id, "/", def->name);
    query->table_id = strdup(table->table_id);
    query->api = strdup(source->api);
    query->params_json = sd_filters_params(source, plan->config, parent_values, empty);
    if (!query->id || !query->table_id || !query->api || !query->params_json)
        return -1;
    query->expected_parts = table->expected_parts;
    query->limit = source->limit;
    if (s_push_list(&query->metrics, source->metrics, SD_CATALOG_MAX_ITEMS) != 0 ||
        s_push_list(&query->dimensions, source->dimensions, SD_CATALOG_MAX_ITEMS) != 0 ||
        s_fill_spec(&query->spec, def, plan->config) != 0)
        return -1;

    //  The query runs for the current period and every compared one.
    size_t compared = sd_table_def_compare_count(def);
    query->periods = calloc(1 + compared, sizeof *query->periods);
    if (!query->periods)
        return -1;
    for (size_t i = 0; i <= compared; i++) {
        query->period_count++;
        if (s_fill_period(&query->periods[i], table, i ? def->compare[i - 1] : "current") != 0)
            return -1;
    }
    return 0;
}
