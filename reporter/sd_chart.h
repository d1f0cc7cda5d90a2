/*  sd_chart: PNG line charts of time series, drawn with cairo.

    One chart per series table: a title, a y axis from zero (or the lowest
    value when it is negative) with rounded steps and thousands separators
    ("%" after the numbers of a percent table), the dates along the x axis
    ("01 Dec", "Nov 26") thinned out to stay readable, one colored line per
    series with a dot at each figure, and a legend under the axis. A
    missing figure breaks its line. Text is drawn in DejaVu Sans (Debian's
    fonts-dejavu-core); names that are not valid UTF-8 get '?' for the bad
    bytes.
*/
#ifndef SD_CHART_H
#define SD_CHART_H

#include <stddef.h>

#include "sd_series.h"

#define SD_CHART_WIDTH 900
#define SD_CHART_HEIGHT 380

//  Draws series under title into a new PNG. On success returns 0 and sets
//  *png (caller frees) and *size; returns -1 when cairo fails (logged).
int sd_chart_png(const sd_series *series, const char *title, unsigned char **png, size_t *size);

//  Releases the caches of cairo and fontconfig, so that a leak checker at
//  exit sees no memory held by them. Call it once no chart is being drawn;
//  a later chart loads the fonts again.
void sd_chart_shutdown(void);

#endif
