/*  sd_notes: the warnings of the normalized tables, grouped for readers.  */
#include "sd_notes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_period.h"

#define S_NO_ROWS "no rows for site "
#define S_IN_PERIOD " in period "
#define S_PROPERTY "property "

//  The phrases statsdash-worker-ga starts its metadata warnings with
//  (worker-ga/sd_ga_response.h), after "property ID: ".
#define S_SAMPLED "data sampled:"
#define S_THRESHOLDED "thresholded:"

//  One "no rows" line: the site, and "table/period".
typedef struct {
    char *site;
    char *item;
} s_empty_part;

//  One other line and the tables it came from.
typedef struct {
    char *text;
    sd_strings tables;
} s_note;

typedef struct {
    s_empty_part *parts;
    size_t part_count;
    s_note *notes;
    size_t note_count;
    bool failed;
} s_notes;

static void s_notes_clear(s_notes *self)
{
    for (size_t i = 0; i < self->part_count; i++) {
        free(self->parts[i].site);
        free(self->parts[i].item);
    }
    for (size_t i = 0; i < self->note_count; i++) {
        free(self->notes[i].text);
        sd_strings_clear(&self->notes[i].tables);
    }
    free(self->parts);
    free(self->notes);
    *self = (s_notes){0};
}

static bool s_contains(const sd_strings *strings, const char *text)
{
    for (size_t i = 0; strings && i < strings->count; i++) {
        if (strcmp(strings->items[i], text) == 0)
            return true;
    }
    return false;
}

static int s_push_unique(sd_strings *strings, const char *text)
{
    return s_contains(strings, text) ? 0 : sd_strings_push(strings, text);
}

//  Returns the last occurrence of needle in text, or NULL.
static const char *s_last(const char *text, const char *needle)
{
    const char *found = NULL;
    for (const char *at = strstr(text, needle); at; at = strstr(at + 1, needle))
        found = at;
    return found;
}

//  Records "no rows for site S in period P" of table. Returns false when
//  line is not such a line.
static bool s_add_empty_part(s_notes *self, const char *table, const char *line)
{
    size_t prefix = strlen(S_NO_ROWS);
    const char *in = strncmp(line, S_NO_ROWS, prefix) == 0 ? s_last(line, S_IN_PERIOD) : NULL;
    if (!in || in < line + prefix)
        return false;
    s_empty_part *parts = realloc(self->parts, (self->part_count + 1) * sizeof *parts);
    if (!parts) {
        self->failed = true;
        return true;
    }
    self->parts = parts;
    s_empty_part *part = &parts[self->part_count++];
    part->site = strndup(line + prefix, (size_t)(in - line) - prefix);
    const char *period = in + strlen(S_IN_PERIOD);
    size_t size = strlen(table) + strlen(period) + 2;
    part->item = malloc(size);
    if (part->item)
        snprintf(part->item, size, "%s/%s", table, period);
    if (!part->site || !part->item)
        self->failed = true;
    return true;
}

static void s_add_note(s_notes *self, const char *table, const char *line)
{
    for (size_t i = 0; i < self->note_count; i++) {
        if (strcmp(self->notes[i].text, line) != 0)
            continue;
        if (s_push_unique(&self->notes[i].tables, table) != 0)
            self->failed = true;
        return;
    }
    s_note *notes = realloc(self->notes, (self->note_count + 1) * sizeof *notes);
    if (!notes) {
        self->failed = true;
        return;
    }
    self->notes = notes;
    s_note *note = &notes[self->note_count++];
    *note = (s_note){strdup(line), {0}};
    if (!note->text || sd_strings_push(&note->tables, table) != 0)
        self->failed = true;
}

//  Returns true when the table has a "no rows" line for site and item.
static bool s_site_empty_in(const s_notes *self, const char *site, const char *item)
{
    for (size_t i = 0; i < self->part_count; i++) {
        if (strcmp(self->parts[i].site, site) == 0 && strcmp(self->parts[i].item, item) == 0)
            return true;
    }
    return false;
}

static bool s_same_range(const sd_date_range *a, const sd_date_range *b)
{
    return sd_date_compare(a->start, b->start) == 0 && sd_date_compare(a->end, b->end) == 0;
}

//  Returns true when every table that shows the site's current period with
//  the report's dates has no rows for it (see the header).
static bool s_site_without_data(const sd_plan *plan, sd_msg *const *tables, const s_notes *self,
                                const char *site)
{
    size_t witnesses = 0;
    for (size_t t = 0; t < plan->table_count; t++) {
        const sd_plan_table *table = &plan->tables[t];
        if (!tables[t] || table->parent >= 0 || table->empty || !s_contains(table->sites, site) ||
            !s_same_range(&table->periods.current, &plan->periods.current))
            continue;
        char item[192];
        snprintf(item, sizeof item, "%s/current", table->def->name);
        if (!s_site_empty_in(self, site, item))
            return false;
        witnesses++;
    }
    return witnesses > 0;
}

//  Writes the warnings of the "no rows" lines: one per site.
static int s_write_empty_parts(const sd_plan *plan, sd_msg *const *tables, const s_notes *self,
                               sd_outcome *outcome)
{
    sd_strings sites = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < self->part_count; i++)
        rc = s_push_unique(&sites, self->parts[i].site);
    for (size_t s = 0; rc == 0 && s < sites.count; s++) {
        const char *site = sites.items[s];
        char text[1024];
        if (s_site_without_data(plan, tables, self, site)) {
            snprintf(text, sizeof text, SD_NOTES_NO_DATA, site);
            outcome->partial = true;
            rc = s_push_unique(&outcome->missing, site);
            if (rc == 0)
                rc = s_push_unique(&outcome->warnings, text);
            continue;
        }
        int used = snprintf(text, sizeof text, "%s: no rows (", site);
        const char *separator = "";
        for (size_t i = 0; i < self->part_count && used < (int)sizeof text; i++) {
            if (strcmp(self->parts[i].site, site) != 0)
                continue;
            used += snprintf(text + used, sizeof text - (size_t)used, "%s%s", separator,
                             self->parts[i].item);
            separator = ", ";
        }
        if (used < (int)sizeof text)
            snprintf(text + used, sizeof text - (size_t)used, ")");
        rc = s_push_unique(&outcome->warnings, text);
    }
    sd_strings_clear(&sites);
    return rc;
}

//  Returns the configured GA site that has the property, or NULL.
static const char *s_property_site(const sd_config *config, const char *property, size_t len)
{
    for (size_t s = 0; config && s < config->ga.site_count; s++) {
        const sd_config_site *site = &config->ga.sites[s];
        for (size_t p = 0; p < site->property_count; p++) {
            const char *id = site->properties[p].property;
            if (id && strlen(id) == len && strncmp(id, property, len) == 0)
                return site->name;
        }
    }
    return NULL;
}

//  Writes one note with its tables, naming the site of a GA4 property:
//  "site: rest (property ID; t1, t2)", else "text (t1, t2)".
static int s_write_note(const sd_plan *plan, const s_note *note, sd_outcome *outcome)
{
    char tables[512] = "";
    for (size_t i = 0; i < note->tables.count; i++) {
        size_t used = strlen(tables);
        snprintf(tables + used, sizeof tables - used, "%s%s", i ? ", " : "",
                 note->tables.items[i]);
    }
    const char *property = strncmp(note->text, S_PROPERTY, strlen(S_PROPERTY)) == 0
                               ? note->text + strlen(S_PROPERTY)
                               : NULL;
    const char *colon = property ? strstr(property, ": ") : NULL;
    const char *site = colon ? s_property_site(plan->config, property, (size_t)(colon - property))
                             : NULL;
    const char *rest = colon ? colon + 2 : note->text;
    if (strncmp(rest, S_SAMPLED, strlen(S_SAMPLED)) == 0)
        outcome->sampled = true;
    if (strncmp(rest, S_THRESHOLDED, strlen(S_THRESHOLDED)) == 0)
        outcome->thresholded = true;

    char text[1536];
    if (site)
        snprintf(text, sizeof text, "%s: %s (property %.*s; %s)", site, rest,
                 (int)(colon - property), property, tables);
    else
        snprintf(text, sizeof text, "%s (%s)", note->text, tables);
    return s_push_unique(&outcome->warnings, text);
}

int sd_notes_collect(const sd_plan *plan, sd_msg *const *tables, sd_outcome *outcome)
{
    s_notes self = {0};
    for (size_t t = 0; t < plan->table_count; t++) {
        if (!tables[t])
            continue;
        const char *name = plan->tables[t].def->name;
        const sd_strings *lines = &tables[t]->as.table_normalized.warnings;
        for (size_t i = 0; i < lines->count; i++) {
            if (!s_add_empty_part(&self, name, lines->items[i]))
                s_add_note(&self, name, lines->items[i]);
        }
    }
    int rc = self.failed ? -1 : s_write_empty_parts(plan, tables, &self, outcome);
    for (size_t i = 0; rc == 0 && i < self.note_count; i++)
        rc = s_write_note(plan, &self.notes[i], outcome);
    s_notes_clear(&self);
    return rc;
}
