/*  sd_render_html: the HTML e-mail form of a report, from Mustache
    templates (sd_templates), and its plain-text alternative.

    The view data comes from sd_view. Each table is rendered with the
    template "table-NAME" when one exists, else "table"; the page with
    "report-TYPE", else "report", which places each table's HTML with a
    triple mustache. The shipped templates make pages for mail clients:
    table layout, inline styles only, no scripts and no external resources.
    Every text from the request, the config or the data is HTML-escaped
    by the {{name}} tags.

    Series tables (sd_series) also get a PNG line chart (sd_chart). In a
    file the chart is a data: URI; in mail it is an inline part that the
    HTML names as "cid:ID".
*/
#ifndef SD_RENDER_HTML_H
#define SD_RENDER_HTML_H

#include <stddef.h>

#include "sd_document.h"

//  A chart image of the mail form.
typedef struct {
    char *table;                    //  table name
    char *content_id;               //  without angle brackets
    unsigned char *png;
    size_t size;
} sd_html_image;

typedef struct {
    sd_html_image *items;
    size_t count;
} sd_html_images;

//  Returns the report as a UTF-8 HTML page with charts as data: URIs
//  (caller frees) and its length in *size (may be NULL), or NULL when a
//  template is missing or invalid or memory ran out (logged).
char *sd_render_html(const sd_document *document, size_t *size);

//  Returns the mail form of the report: the HTML page (caller frees, length
//  in *size, may be NULL) whose charts are "cid:" references to the images
//  added to images (caller clears), and in *text the plain-text part
//  (template "report-TYPE.txt", else "report.txt"; caller frees). Returns
//  NULL on failure, with nothing to free.
char *sd_render_html_mail(const sd_document *document, sd_html_images *images, char **text,
                          size_t *size);

//  Frees the images and empties the list. Safe on an empty list.
void sd_html_images_clear(sd_html_images *images);

#endif
