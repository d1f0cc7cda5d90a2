/*  fuzz_yt_report: the YouTube Analytics reports.query parser
    (sd_yt_rollup_add) and the roll-up built from it.

    The first input byte picks the query: videos, countries, or no
    dimension. The rest is the response body, passed in a buffer of
    exactly its size. The body is added twice, as two channel ids of one
    channel would be, which also drives the sums towards overflow. After
    each accepted body the roll-up must turn into a table with the query's
    columns and its row count. A rejected body must come with an error.
*/
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "sd_yt_query.h"
#include "sd_yt_rollup.h"

static char *s_video_dimensions[] = {"video"};
static char *s_video_metrics[] = {"estimatedMinutesWatched", "views"};
static char *s_country_dimensions[] = {"country"};
static char *s_country_metrics[] = {"views", "likes", "subscribersGained", "averageViewDuration"};
static char *s_total_metrics[] = {"views", "estimatedMinutesWatched"};
static sd_period s_periods[] = {{"current", "2026-11-01", "2026-11-30"}};

static sd_query s_query(uint8_t shape)
{
    sd_query query = {.id = "q",
                      .table_id = "t",
                      .api = SD_YT_API_REPORTS,
                      .params_json = "{}",
                      .periods = s_periods,
                      .period_count = 1};
    switch (shape % 3) {
    case 0:
        query.dimensions = (sd_strings){s_video_dimensions, 1};
        query.metrics = (sd_strings){s_video_metrics, 2};
        break;
    case 1:
        query.dimensions = (sd_strings){s_country_dimensions, 1};
        query.metrics = (sd_strings){s_country_metrics, 4};
        break;
    default:
        query.metrics = (sd_strings){s_total_metrics, 2};
        break;
    }
    return query;
}

static void s_check_table(const sd_yt_rollup *rollup, const sd_query *query)
{
    sd_table_data table = {0};
    if (sd_yt_rollup_table(rollup, &table) != 0)
        fuzz_fail("sd_yt_rollup_table failed");
    if (table.column_count != query->dimensions.count + query->metrics.count)
        fuzz_fail("table has %zu columns, the query %zu", table.column_count,
                  query->dimensions.count + query->metrics.count);
    if (table.row_count != sd_yt_rollup_rows(rollup))
        fuzz_fail("table has %zu rows, the roll-up %zu", table.row_count,
                  sd_yt_rollup_rows(rollup));
    sd_table_data_clear(&table);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    sd_query query = s_query(data[0]);
    size_t body_size = size - 1;
    char *body = malloc(body_size ? body_size : 1);
    if (!body)
        fuzz_fail("out of memory");
    memcpy(body, data + 1, body_size);

    sd_yt_rollup *rollup = sd_yt_rollup_new(&query);
    if (!rollup)
        fuzz_fail("out of memory");
    for (int i = 0; i < 2; i++) {
        char error[256] = "";
        if (sd_yt_rollup_add(rollup, body, body_size, error, sizeof error) != 0) {
            if (error[0] == '\0')
                fuzz_fail("rejected body without an error text");
            break;
        }
        s_check_table(rollup, &query);
    }
    sd_yt_rollup_destroy(&rollup);
    free(body);
    return 0;
}
