/*  sd_chart: PNG line charts of time series, drawn with cairo.  */
#include "sd_chart.h"

#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_format.h"
#include "sd_log.h"
#include "sd_utf8.h"

#define S_FONT "DejaVu Sans"
#define S_LEFT 90.0
#define S_RIGHT 40.0
#define S_TOP 44.0
#define S_BOTTOM 96.0
#define S_MAX_X_LABELS 12
#define S_MAX_NAME 48

//  Line colors, distinguishable and printable in grey.
static const double s_palette[][3] = {
    {0.12, 0.47, 0.71}, {0.85, 0.37, 0.01}, {0.17, 0.63, 0.17}, {0.84, 0.15, 0.16},
    {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29}, {0.89, 0.47, 0.76}, {0.50, 0.50, 0.50},
    {0.74, 0.74, 0.13}, {0.09, 0.75, 0.81}, {0.10, 0.10, 0.44}, {0.40, 0.65, 0.12},
};

typedef struct {
    double low;                     //  value at the bottom of the plot
    double high;                    //  value at the top
    double step;                    //  between grid lines
    int decimals;                   //  of the axis labels
} s_axis;

//  Copies at most S_MAX_NAME bytes of text into buffer as valid UTF-8:
//  bytes that do not fit become '?', and no character is cut in two.
static void s_clean(const char *text, char *buffer, size_t size)
{
    size_t len = strlen(text);
    size_t limit = size - 1 < S_MAX_NAME ? size - 1 : S_MAX_NAME;
    size_t out = 0;
    size_t at = 0;
    while (at < len) {
        size_t offset = len - at;
        bool valid = sd_utf8_valid(text + at, len - at, false, &offset);
        size_t run = valid ? len - at : offset;
        bool full = out + run > limit;
        if (full) {
            run = limit - out;
            while (run > 0 && ((unsigned char)text[at + run] & 0xC0) == 0x80)
                run--;
        }
        memcpy(buffer + out, text + at, run);
        out += run;
        at += run;
        if (valid || full || out >= limit)
            break;
        buffer[out++] = '?';
        at++;
    }
    buffer[out] = '\0';
}

//  Chooses rounded grid steps that cover the values.
static s_axis s_make_axis(const sd_series *series)
{
    double low = 0, high = 0;
    for (size_t i = 0; i < series->date_count * series->series_count; i++) {
        if (!series->present[i])
            continue;
        low = fmin(low, series->values[i]);
        high = fmax(high, series->values[i]);
    }
    if (high - low < 1e-9)
        high = low + 1;
    double raw = (high - low) / 5;
    double magnitude = pow(10, floor(log10(raw)));
    double step = magnitude;
    if (raw / magnitude > 5)
        step = 10 * magnitude;
    else if (raw / magnitude > 2)
        step = 5 * magnitude;
    else if (raw / magnitude > 1)
        step = 2 * magnitude;
    s_axis axis = {floor(low / step) * step, ceil(high / step) * step, step, 0};
    axis.decimals = step >= 1 ? 0 : (int)ceil(-log10(step));
    return axis;
}

static void s_text_at(cairo_t *cr, const char *text, double x, double y, double align)
{
    cairo_text_extents_t extents;
    cairo_text_extents(cr, text, &extents);
    cairo_move_to(cr, x - extents.x_advance * align, y);
    cairo_show_text(cr, text);
}

static double s_y(const s_axis *axis, double value)
{
    double plot = SD_CHART_HEIGHT - S_TOP - S_BOTTOM;
    return S_TOP + plot * (1 - (value - axis->low) / (axis->high - axis->low));
}

static double s_x(const sd_series *series, size_t date)
{
    double plot = SD_CHART_WIDTH - S_LEFT - S_RIGHT;
    return S_LEFT + (series->date_count > 1 ? plot * (double)date / (double)(series->date_count - 1)
                                            : plot / 2);
}

static void s_draw_y_axis(cairo_t *cr, const sd_series *series, const s_axis *axis)
{
    bool percent = strcmp(series->unit, "percent") == 0;
    cairo_set_font_size(cr, 12);
    for (double value = axis->low; value <= axis->high + axis->step / 2; value += axis->step) {
        double y = s_y(axis, value);
        cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
        cairo_move_to(cr, S_LEFT, y);
        cairo_line_to(cr, SD_CHART_WIDTH - S_RIGHT, y);
        cairo_stroke(cr);
        char label[SD_FORMAT_SIZE + 2];
        sd_format_double(value, axis->decimals, false, label, sizeof label - 2);
        if (percent)
            strcat(label, "%");
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        s_text_at(cr, label, S_LEFT - 8, y + 4, 1.0);
    }
}

static void s_draw_x_axis(cairo_t *cr, const sd_series *series)
{
    size_t every = (series->date_count + S_MAX_X_LABELS - 1) / S_MAX_X_LABELS;
    double bottom = SD_CHART_HEIGHT - S_BOTTOM;
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_move_to(cr, S_LEFT, bottom);
    cairo_line_to(cr, SD_CHART_WIDTH - S_RIGHT, bottom);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 12);
    for (size_t d = 0; d < series->date_count; d += every) {
        char label[64];
        sd_series_date_label(series->dates[d], true, label, sizeof label);
        double x = s_x(series, d);
        cairo_move_to(cr, x, bottom);
        cairo_line_to(cr, x, bottom + 5);
        cairo_stroke(cr);
        char clean[64];
        s_clean(label, clean, sizeof clean);
        s_text_at(cr, clean, x, bottom + 20, 0.5);
    }
}

static void s_draw_line(cairo_t *cr, const sd_series *series, const s_axis *axis, size_t s)
{
    const double *color = s_palette[s % (sizeof s_palette / sizeof s_palette[0])];
    cairo_set_source_rgb(cr, color[0], color[1], color[2]);
    cairo_set_line_width(cr, 2.5);
    bool drawing = false;
    for (size_t d = 0; d < series->date_count; d++) {
        size_t at = d * series->series_count + s;
        if (!series->present[at]) {
            drawing = false;
            continue;
        }
        double x = s_x(series, d), y = s_y(axis, series->values[at]);
        if (drawing)
            cairo_line_to(cr, x, y);
        else
            cairo_move_to(cr, x, y);
        drawing = true;
    }
    cairo_stroke(cr);
    for (size_t d = 0; d < series->date_count; d++) {
        size_t at = d * series->series_count + s;
        if (series->present[at]) {
            cairo_arc(cr, s_x(series, d), s_y(axis, series->values[at]), 3.0, 0, 2 * M_PI);
            cairo_fill(cr);
        }
    }
}

//  Writes the series names in a row under the axis, wrapping when full.
static void s_draw_legend(cairo_t *cr, const sd_series *series)
{
    double x = S_LEFT;
    double y = SD_CHART_HEIGHT - S_BOTTOM + 50;
    cairo_set_font_size(cr, 13);
    for (size_t s = 0; s < series->series_count; s++) {
        char name[S_MAX_NAME + 8];
        s_clean(series->names[s], name, sizeof name);
        cairo_text_extents_t extents;
        cairo_text_extents(cr, name, &extents);
        if (x + 22 + extents.x_advance > SD_CHART_WIDTH - S_RIGHT && x > S_LEFT) {
            x = S_LEFT;
            y += 20;
        }
        const double *color = s_palette[s % (sizeof s_palette / sizeof s_palette[0])];
        cairo_set_source_rgb(cr, color[0], color[1], color[2]);
        cairo_rectangle(cr, x, y - 10, 14, 10);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        s_text_at(cr, name, x + 20, y, 0.0);
        x += 20 + extents.x_advance + 24;
    }
}

static void s_draw(cairo_t *cr, const sd_series *series, const char *title)
{
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, S_FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, 16);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    char heading[160];
    s_clean(title, heading, sizeof heading);
    if (*series->metric_label) {
        char metric[S_MAX_NAME + 8];
        s_clean(series->metric_label, metric, sizeof metric);
        size_t used = strlen(heading);
        snprintf(heading + used, sizeof heading - used, " \xE2\x80\x94 %s", metric);
    }
    s_text_at(cr, heading, S_LEFT, 26, 0.0);
    cairo_select_font_face(cr, S_FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_line_width(cr, 1.0);
    s_axis axis = s_make_axis(series);
    s_draw_y_axis(cr, series, &axis);
    s_draw_x_axis(cr, series);
    for (size_t s = 0; s < series->series_count; s++)
        s_draw_line(cr, series, &axis, s);
    s_draw_legend(cr, series);
}

typedef struct {
    unsigned char *data;
    size_t size;
    size_t capacity;
} s_buffer;

static cairo_status_t s_write(void *arg, const unsigned char *data, unsigned int length)
{
    s_buffer *buffer = arg;
    if (buffer->size + length > buffer->capacity) {
        size_t capacity = (buffer->size + length) * 2;
        unsigned char *grown = realloc(buffer->data, capacity);
        if (!grown)
            return CAIRO_STATUS_NO_MEMORY;
        buffer->data = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->data + buffer->size, data, length);
    buffer->size += length;
    return CAIRO_STATUS_SUCCESS;
}

int sd_chart_png(const sd_series *series, const char *title, unsigned char **png, size_t *size)
{
    cairo_surface_t *surface =
        cairo_image_surface_create(CAIRO_FORMAT_RGB24, SD_CHART_WIDTH, SD_CHART_HEIGHT);
    cairo_t *cr = cairo_create(surface);
    s_draw(cr, series, title);
    cairo_status_t status = cairo_status(cr);
    s_buffer buffer = {0};
    if (status == CAIRO_STATUS_SUCCESS)
        status = cairo_surface_write_to_png_stream(surface, s_write, &buffer);
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
    if (status != CAIRO_STATUS_SUCCESS) {
        sd_error("chart not drawn: %s chart=%s", cairo_status_to_string(status), title);
        free(buffer.data);
        return -1;
    }
    *png = buffer.data;
    *size = buffer.size;
    return 0;
}

void sd_chart_shutdown(void)
{
    cairo_debug_reset_static_data();
    FcFini();
}
