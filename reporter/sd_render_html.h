/*  sd_render_html: the HTML e-mail form of a report.

    The page is made for mail clients: table layout, inline styles only, no
    scripts and no external resources. It shows the subject, a warning box
    listing the sites with missing data (when there are any), then each
    table in the layout its definition names: the overview (current figures,
    then one line per compared period with the change and percentage) or
    ranked rows (each metric with its change per compared period). Numbers
    have thousands separators, percentages one decimal; rises are green and
    falls red. Every text from the request, the config or the data is
    HTML-escaped.

    This module is the only place that knows the page's markup, so that a
    template engine can replace it later.
*/
#ifndef SD_RENDER_HTML_H
#define SD_RENDER_HTML_H

#include <stddef.h>

#include "sd_document.h"

//  Returns the report as a UTF-8 HTML page (caller frees) with its length
//  in *size (may be NULL), or NULL when out of memory.
char *sd_render_html(const sd_document *document, size_t *size);

#endif
