/*  fuzz_ga_response: the GA4 runReport page parser and the GA4 error text.

    The first input byte picks the request's dimensions (none, "country",
    or "country" and "pagePath"), its number of date ranges (one to three)
    and the HTTP status for sd_ga_error_text. The rest is the response body,
    passed in a buffer of exactly its size so that reads past it are
    caught. A page that parses must have consistent counts, a period index
    in range for every row and metric values of the kind its header gave.
    A page that fails must come back empty with an error text.
*/
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "sd_ga_response.h"

static char *s_dimension_items[] = {"country", "pagePath"};
static char *s_metric_items[] = {"screenPageViews", "totalUsers", "sessions",
                                 "userEngagementDuration"};
static sd_period s_periods[] = {
    {"current", "2026-11-01", "2026-11-30"},
    {"previous", "2026-10-01", "2026-10-31"},
    {"yearly", "2025-11-01", "2025-11-30"},
};

static void s_check_page(const sd_ga_page *page, const sd_ga_expect *expect)
{
    if (page->dimension_count != expect->dimensions->count ||
        page->metric_count != expect->metrics->count)
        fuzz_fail("page has %zu dimensions and %zu metrics, the request %zu and %zu",
                  page->dimension_count, page->metric_count, expect->dimensions->count,
                  expect->metrics->count);
    for (size_t r = 0; r < page->rows; r++) {
        if (page->periods[r] >= expect->period_count)
            fuzz_fail("row %zu has period index %zu of %zu", r, page->periods[r],
                      expect->period_count);
        for (size_t d = 0; d < page->dimension_count; d++) {
            if (!page->dimension_values[r * page->dimension_count + d])
                fuzz_fail("row %zu has a NULL dimension value", r);
        }
        for (size_t m = 0; m < page->metric_count; m++) {
            sd_value_kind kind = page->metric_values[r * page->metric_count + m].kind;
            sd_value_kind expected_kind = page->metric_integer[m] ? SD_VALUE_INT : SD_VALUE_FLOAT;
            if (kind != expected_kind)
                fuzz_fail("row %zu metric %zu has value kind %d, its header %d", r, m, (int)kind,
                          (int)expected_kind);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t shape = data[0];
    size_t body_size = size - 1;
    char *body = malloc(body_size ? body_size : 1);
    if (!body)
        fuzz_fail("out of memory");
    memcpy(body, data + 1, body_size);

    const sd_strings dimensions = {s_dimension_items, shape % 3};
    const sd_strings metrics = {s_metric_items, 4};
    sd_ga_expect expect = {&dimensions, &metrics, s_periods, 1 + (shape / 3) % 3};
    sd_ga_page page;
    char error[256] = "";
    if (sd_ga_page_parse(body, body_size, &expect, &page, error, sizeof error) == 0)
        s_check_page(&page, &expect);
    else if (error[0] == '\0' || page.rows != 0)
        fuzz_fail("failed parse left %zu rows or no error text", page.rows);
    sd_ga_page_clear(&page);

    static const long statuses[] = {200, 400, 401, 403, 429, 500, 503, 0};
    char text[512];
    const char *types[] = {"application/json; charset=UTF-8", "text/html", NULL};
    sd_ga_error_text(statuses[shape % 8], body, body_size, types[shape % 3], text, sizeof text);
    if (strnlen(text, sizeof text) == sizeof text)
        fuzz_fail("error text is not NUL-terminated");
    free(body);
    return 0;
}
