/*  sd_outcome: which data a report lacks, and the warnings that report it.  */
#include "sd_outcome.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_notes.h"

#define S_NEVER_ARRIVED "no data arrived before the deadline"

//  One missing (site, table, period).
typedef struct {
    char *site;
    char *item;                     //  "summary/current", or "all tables"
    char *error;
} s_entry;

typedef struct {
    s_entry *entries;
    size_t count;
    size_t capacity;
    bool failed;
} s_entries;

static void s_entries_clear(s_entries *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->entries[i].site);
        free(list->entries[i].item);
        free(list->entries[i].error);
    }
    free(list->entries);
    *list = (s_entries){0};
}

//  Replaces an empty error of an existing entry. Returns true when the
//  (site, item) pair is already listed.
static bool s_entries_merge(s_entries *list, const char *site, const char *item, const char *error)
{
    for (size_t i = 0; i < list->count; i++) {
        s_entry *entry = &list->entries[i];
        if (strcmp(entry->site, site) != 0 || strcmp(entry->item, item) != 0)
            continue;
        if (*entry->error == '\0' && *error != '\0') {
            char *copy = strdup(error);
            if (!copy)
                list->failed = true;
            else {
                free(entry->error);
                entry->error = copy;
            }
        }
        return true;
    }
    return false;
}

static void s_entries_add(s_entries *list, const char *site, const char *item, const char *error)
{
    if (list->failed || s_entries_merge(list, site, item, error ? error : ""))
        return;
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 16;
        s_entry *entries = realloc(list->entries, capacity * sizeof *entries);
        if (!entries) {
            list->failed = true;
            return;
        }
        list->entries = entries;
        list->capacity = capacity;
    }
    s_entry *entry = &list->entries[list->count];
    entry->site = strdup(site);
    entry->item = strdup(item);
    entry->error = strdup(error ? error : "");
    list->count++;
    if (!entry->site || !entry->item || !entry->error)
        list->failed = true;
}

//  Returns the table's name in the plan, or its id when it is not planned.
static const char *s_table_name(const sd_plan *plan, const char *table_id)
{
    int index = sd_plan_find_table(plan, table_id);
    return index >= 0 ? plan->tables[index].def->name : table_id;
}

static void s_add_part(s_entries *list, const char *site, const char *table, const char *period,
                       const char *error)
{
    char item[192];
    snprintf(item, sizeof item, "%s/%s", table, period);
    s_entries_add(list, site, item, error);
}

static void s_collect_reply(s_entries *list, const sd_plan *plan, const sd_fetch_reply *reply,
                            const char *site)
{
    for (size_t p = 0; p < reply->part_count; p++) {
        const sd_part_status *part = &reply->parts[p];
        if (!part->error)
            continue;
        //  Part ids are "<site>/<period label>"; the label is after the last '/'.
        const char *slash = part->part_id ? strrchr(part->part_id, '/') : NULL;
        const char *period = slash ? slash + 1 : (part->part_id ? part->part_id : "");
        s_add_part(list, site, s_table_name(plan, part->table_id), period, part->error);
    }
}

static const char *s_job_site(const sd_plan *plan, size_t job)
{
    return plan->jobs[job]->as.fetch_request.site;
}

//  Returns true when a job of site failed as a whole; its parts are then
//  covered by the job's error.
static bool s_job_failed(const sd_plan *plan, char *const *job_errors, const char *site)
{
    for (size_t j = 0; j < plan->job_count; j++) {
        if (job_errors[j] && strcmp(s_job_site(plan, j), site) == 0)
            return true;
    }
    return false;
}

//  Names what a failed job covers: "all tables" for a site's first job,
//  the table of a second-stage job.
static void s_job_item(const sd_plan *plan, size_t job, char *item, size_t size)
{
    const sd_fetch_request *fetch = &plan->jobs[job]->as.fetch_request;
    char first_id[384];
    snprintf(first_id, sizeof first_id, "%s.%s", plan->id_prefix, fetch->site);
    if (fetch->query_count > 0 && strcmp(fetch->job_id, first_id) != 0)
        snprintf(item, size, "%s/all periods", s_table_name(plan, fetch->queries[0].table_id));
    else
        snprintf(item, size, "all tables");
}

static void s_collect_table(s_entries *list, const sd_plan *plan, size_t index,
                            const sd_msg *msg, char *const *job_errors)
{
    const char *name = plan->tables[index].def->name;
    if (!msg) {
        const sd_strings *sites = plan->tables[index].sites;
        for (size_t s = 0; s < sites->count; s++) {
            if (!s_job_failed(plan, job_errors, sites->items[s]))
                s_add_part(list, sites->items[s], name, "all periods", S_NEVER_ARRIVED);
        }
        return;
    }
    const sd_table_normalized *table = &msg->as.table_normalized;
    for (size_t m = 0; m < table->missing_count; m++) {
        const sd_missing_part *part = &table->missing[m];
        if (part->site && s_job_failed(plan, job_errors, part->site))
            continue;
        const char *error = part->error && *part->error ? part->error : S_NEVER_ARRIVED;
        s_add_part(list, part->site ? part->site : "", name, part->period ? part->period : "",
                   error);
    }
}

static bool s_contains(const sd_strings *strings, const char *text)
{
    for (size_t i = 0; i < strings->count; i++) {
        if (strcmp(strings->items[i], text) == 0)
            return true;
    }
    return false;
}

static int s_push_unique(sd_strings *strings, const char *text)
{
    return s_contains(strings, text) ? 0 : sd_strings_push(strings, text);
}

//  Writes one warning per (site, error) with the items it concerns.
static int s_group(const s_entries *list, sd_outcome *outcome)
{
    bool *done = calloc(list->count ? list->count : 1, sizeof *done);
    if (!done)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < list->count && rc == 0; i++) {
        if (done[i])
            continue;
        const s_entry *first = &list->entries[i];
        size_t length = strlen(first->site) + strlen(first->error) + 8;
        for (size_t j = i; j < list->count; j++)
            length += strlen(list->entries[j].item) + 2;
        char *text = malloc(length);
        if (!text) {
            rc = -1;
            break;
        }
        int used = snprintf(text, length, "%s: %s (", first->site, first->error);
        for (size_t j = i; j < list->count; j++) {
            const s_entry *entry = &list->entries[j];
            if (done[j] || strcmp(entry->site, first->site) != 0 ||
                strcmp(entry->error, first->error) != 0)
                continue;
            done[j] = true;
            used += snprintf(text + used, length - (size_t)used, "%s%s", j > i ? ", " : "",
                             entry->item);
        }
        snprintf(text + used, length - (size_t)used, ")");
        rc = s_push_unique(&outcome->missing, first->site);
        if (rc == 0)
            rc = s_push_unique(&outcome->warnings, text);
        free(text);
    }
    free(done);
    return rc;
}

//  Adds the warnings of fetch replies, prefixed with their site.
static int s_add_notes(sd_outcome *outcome, const char *source, const sd_strings *notes)
{
    for (size_t i = 0; i < notes->count; i++) {
        size_t length = strlen(source) + strlen(notes->items[i]) + 3;
        char *text = malloc(length);
        if (!text)
            return -1;
        snprintf(text, length, "%s: %s", source, notes->items[i]);
        int rc = s_push_unique(&outcome->warnings, text);
        free(text);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static int s_collect_notes(const sd_plan *plan, sd_msg *const *tables, sd_msg *const *replies,
                           sd_outcome *outcome)
{
    if (sd_notes_collect(plan, tables, outcome) != 0)
        return -1;
    for (size_t j = 0; j < plan->job_count; j++) {
        if (replies[j] &&
            s_add_notes(outcome, s_job_site(plan, j), &replies[j]->as.fetch_reply.warnings) != 0)
            return -1;
    }
    return 0;
}

//  Adds a warning for each job that neither replied nor failed.
static int s_collect_silent_jobs(const sd_plan *plan, sd_msg *const *replies,
                                 char *const *job_errors, sd_outcome *outcome)
{
    for (size_t j = 0; j < plan->job_count; j++) {
        if (replies[j] || job_errors[j])
            continue;
        char text[256];
        snprintf(text, sizeof text, "%s: the worker did not reply to its fetch job in time",
                 s_job_site(plan, j));
        if (s_push_unique(&outcome->warnings, text) != 0)
            return -1;
    }
    return 0;
}

int sd_outcome_compute(const sd_plan *plan, sd_msg *const *tables, sd_msg *const *replies,
                       char *const *job_errors, sd_outcome *outcome)
{
    *outcome = (sd_outcome){0};
    s_entries list = {0};

    //  Whole jobs that failed, then part errors, then the tables' own lists.
    for (size_t j = 0; j < plan->job_count; j++) {
        char item[192];
        s_job_item(plan, j, item, sizeof item);
        if (job_errors[j])
            s_entries_add(&list, s_job_site(plan, j), item, job_errors[j]);
        else if (replies[j])
            s_collect_reply(&list, plan, &replies[j]->as.fetch_reply, s_job_site(plan, j));
    }
    for (size_t t = 0; t < plan->table_count; t++)
        s_collect_table(&list, plan, t, tables[t], job_errors);

    int rc = list.failed ? -1 : s_group(&list, outcome);
    if (rc == 0)
        rc = s_collect_notes(plan, tables, replies, outcome);
    if (rc == 0)
        rc = s_collect_silent_jobs(plan, replies, job_errors, outcome);
    outcome->partial = outcome->partial || list.count > 0;
    s_entries_clear(&list);
    if (rc != 0)
        sd_outcome_clear(outcome);
    return rc;
}

int sd_outcome_add_request_warnings(sd_outcome *outcome, const sd_strings *warnings)
{
    sd_strings all = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < warnings->count; i++)
        rc = s_push_unique(&all, warnings->items[i]);
    for (size_t i = 0; rc == 0 && i < outcome->warnings.count; i++)
        rc = s_push_unique(&all, outcome->warnings.items[i]);
    if (rc != 0) {
        sd_strings_clear(&all);
        return -1;
    }
    sd_strings_clear(&outcome->warnings);
    outcome->warnings = all;
    return 0;
}

const char *sd_outcome_quality(const sd_outcome *outcome, const char *service)
{
    if (!service || strcmp(service, "ga") != 0)
        return NULL;
    if (outcome->sampled && outcome->thresholded)
        return "GA4 marked some figures as sampled and some as thresholded (see the warnings).";
    if (outcome->sampled)
        return "GA4 marked some figures as sampled (see the warnings); none as thresholded.";
    if (outcome->thresholded)
        return "GA4 marked some figures as thresholded (see the warnings); none as sampled.";
    return "GA4 marked none of the figures as sampled or thresholded.";
}

void sd_outcome_clear(sd_outcome *outcome)
{
    sd_strings_clear(&outcome->missing);
    sd_strings_clear(&outcome->warnings);
    outcome->partial = false;
    outcome->sampled = false;
    outcome->thresholded = false;
}
