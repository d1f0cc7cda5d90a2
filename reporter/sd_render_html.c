/*  sd_render_html: the HTML e-mail form of a report, from templates.  */
#include "sd_render_html.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_chart.h"
#include "sd_log.h"
#include "sd_mustache.h"
#include "sd_series.h"
#include "sd_templates.h"
#include "sd_view.h"

//  Renders the template named first, or fallback when first does not
//  exist, with view. Returns the output (caller frees) or NULL (logged).
static char *s_render(const char *first, const char *fallback, json_t *view, size_t *size)
{
    char error[512] = "";
    const char *name = first;
    char *text = sd_templates_load(first, error, sizeof error);
    if (!text && !*error) {
        name = fallback;
        text = sd_templates_load(fallback, error, sizeof error);
    }
    if (!text) {
        sd_error("report template not loaded: %s template=%s", *error ? error : "not found",
                 name);
        return NULL;
    }
    char *compile_error = NULL;
    sd_mustache_t *template = sd_mustache_new(text, &compile_error);
    free(text);
    char *output = NULL;
    size_t length = 0;
    if (!template)
        sd_error("report template invalid: %s template=%s", compile_error, name);
    else if (sd_mustache_render(template, view, sd_templates_partial, NULL, &output, &length) != 0)
        sd_error("report template failed: %s template=%s", sd_mustache_error(template), name);
    free(compile_error);
    sd_mustache_destroy(&template);
    if (output && size)
        *size = length;
    return output;
}

//  Returns "data:image/png;base64,..." for png (caller frees), or NULL.
static char *s_data_uri(const unsigned char *png, size_t size)
{
    static const char prefix[] = "data:image/png;base64,";
    size_t encoded = 4 * ((size + 2) / 3);
    char *uri = malloc(sizeof prefix + encoded);
    if (!uri)
        return NULL;
    memcpy(uri, prefix, sizeof prefix - 1);
    EVP_EncodeBlock((unsigned char *)uri + sizeof prefix - 1, png, (int)size);
    return uri;
}

//  Returns a Content-ID for a chart, unique per mail: "chart.HEX@statsdash".
static char *s_content_id(void)
{
    unsigned char random[8];
    if (RAND_bytes(random, sizeof random) != 1)
        return NULL;
    char id[64] = "chart.";
    for (size_t i = 0; i < sizeof random; i++)
        snprintf(id + 6 + 2 * i, sizeof id - 6 - 2 * i, "%02x", random[i]);
    strcat(id, "@statsdash");
    return strdup(id);
}

//  Draws the chart of a series table. Returns the image source to place in
//  the HTML (caller frees): a data URI, or with images a "cid:" reference
//  to the PNG added there. Returns NULL when the table has no chart.
static char *s_chart(const sd_document_table *entry, sd_html_images *images)
{
    sd_series *series = sd_series_new(entry);
    unsigned char *png = NULL;
    size_t size = 0;
    if (!series || series->date_count < 2 ||
        sd_chart_png(series, entry->def->title, &png, &size) != 0) {
        sd_series_destroy(&series);
        return NULL;
    }
    sd_series_destroy(&series);
    if (!images) {
        char *uri = s_data_uri(png, size);
        free(png);
        return uri;
    }
    sd_html_image *items = realloc(images->items, (images->count + 1) * sizeof *items);
    char *content_id = s_content_id();
    char *table = strdup(entry->def->name);
    char *src = content_id ? malloc(strlen(content_id) + 5) : NULL;
    if (!items || !content_id || !table || !src) {
        if (items)
            images->items = items;
        free(png);
        free(content_id);
        free(table);
        free(src);
        return NULL;
    }
    sprintf(src, "cid:%s", content_id);
    images->items = items;
    images->items[images->count++] = (sd_html_image){table, content_id, png, size};
    return src;
}

//  Renders one table and adds its view, with "html", to the report view.
static int s_add_table(json_t *report, const sd_document *document,
                       const sd_document_table *entry, sd_html_images *images)
{
    char *src = entry->table && sd_view_is_series(entry) ? s_chart(entry, images) : NULL;
    json_t *view = sd_view_table(document, entry, src);
    free(src);
    if (!view)
        return -1;
    char first[160];
    snprintf(first, sizeof first, "table-%s", entry->def->name);
    char *html = s_render(first, "table", view, NULL);
    int rc = html ? json_object_set_new(view, "html", sd_view_string(html, strlen(html))) : -1;
    free(html);
    if (rc == 0)
        rc = json_array_append(json_object_get(report, "tables"), view);
    json_decref(view);
    return rc;
}

static json_t *s_report_view(const sd_document *document, sd_html_images *images)
{
    json_t *view = sd_view_report(document);
    for (size_t i = 0; view && i < document->table_count; i++) {
        if (s_add_table(view, document, &document->tables[i], images) != 0)
            json_decref(view), view = NULL;
    }
    return view;
}

static char *s_render_report(const sd_document *document, json_t *view, const char *suffix,
                             size_t *size)
{
    char first[160], fallback[32];
    snprintf(first, sizeof first, "report-%s%s", document->report, suffix);
    snprintf(fallback, sizeof fallback, "report%s", suffix);
    return s_render(first, fallback, view, size);
}

char *sd_render_html(const sd_document *document, size_t *size)
{
    json_t *view = s_report_view(document, NULL);
    char *html = view ? s_render_report(document, view, "", size) : NULL;
    json_decref(view);
    return html;
}

char *sd_render_html_mail(const sd_document *document, sd_html_images *images, char **text,
                          size_t *size)
{
    *text = NULL;
    json_t *view = s_report_view(document, images);
    char *html = view ? s_render_report(document, view, "", size) : NULL;
    if (html)
        *text = s_render_report(document, view, ".txt", NULL);
    json_decref(view);
    if (!*text) {
        free(html);
        sd_html_images_clear(images);
        return NULL;
    }
    return html;
}

void sd_html_images_clear(sd_html_images *images)
{
    for (size_t i = 0; i < images->count; i++) {
        free(images->items[i].table);
        free(images->items[i].content_id);
        free(images->items[i].png);
    }
    free(images->items);
    images->items = NULL;
    images->count = 0;
}
