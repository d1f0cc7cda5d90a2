/*  Unit tests of the YouTube worker's pieces that need no server. They
    cover the roll-up of result tables, the Data API body parsers, the
    query checks and URLs (paging and the availability probe included) and
    the per-channel-id in-flight counter. They also cover the secret files of sd_oauth_user (modes,
    format, atomic write).  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sd_inflight.h"
#include "sd_oauth_user.h"
#include "sd_yt_data.h"
#include "sd_yt_query.h"
#include "sd_yt_rollup.h"

static char *s_metric_names[] = {"estimatedMinutesWatched", "views"};
static char *s_video_names[] = {"video"};
static sd_period s_periods[] = {{"current", "2026-11-01", "2026-11-30"}};

static sd_query s_video_query(void)
{
    sd_query query = {
        .id = "videos",
        .table_id = "t-videos",
        .api = SD_YT_API_REPORTS,
        .metrics = {s_metric_names, 2},
        .dimensions = {s_video_names, 1},
        .params_json = "{\"sort\": \"-estimatedMinutesWatched\"}",
        .limit = 10,
        .periods = s_periods,
        .period_count = 1,
    };
    return query;
}

static const char *s_table_body =
    "{\"kind\": \"youtubeAnalytics#resultTable\", \"columnHeaders\": ["
    "{\"name\": \"video\", \"columnType\": \"DIMENSION\", \"dataType\": \"STRING\"},"
    "{\"name\": \"estimatedMinutesWatched\", \"columnType\": \"METRIC\", \"dataType\": \"INTEGER\"},"
    "{\"name\": \"views\", \"columnType\": \"METRIC\", \"dataType\": \"INTEGER\"}],"
    "\"rows\": [[\"aaaaaaaaaaa\", 30, 10], [\"bbbbbbbbbbb\", 20, 7]]}";

//  -------------------------------------------------------------------------
//  Roll-up

static void test_rollup_sums_rows_of_two_ids(void **state)
{
    (void)state;
    sd_query query = s_video_query();
    sd_yt_rollup *rollup = sd_yt_rollup_new(&query);
    char error[256];
    assert_int_equal(sd_yt_rollup_add(rollup, s_table_body, strlen(s_table_body), error,
                                      sizeof error), 0);
    assert_int_equal(sd_yt_rollup_add(rollup, s_table_body, strlen(s_table_body), error,
                                      sizeof error), 0);
    assert_int_equal(sd_yt_rollup_rows(rollup), 2);

    sd_table_data table = {0};
    assert_int_equal(sd_yt_rollup_table(rollup, &table), 0);
    assert_int_equal(table.column_count, 3);
    assert_string_equal(table.columns[0].name, "video");
    assert_string_equal(table.columns[1].unit, "minutes");
    assert_string_equal(table.columns[2].unit, "count");
    assert_int_equal(table.row_count, 2);
    assert_string_equal(table.cells[0].as.s.ptr, "aaaaaaaaaaa");
    assert_int_equal(table.cells[1].kind, SD_VALUE_INT);
    assert_int_equal(table.cells[1].as.i, 60);
    assert_int_equal(table.cells[2].as.i, 20);
    assert_string_equal(table.cells[3].as.s.ptr, "bbbbbbbbbbb");
    assert_int_equal(table.cells[3 + 2].as.i, 14);
    sd_table_data_clear(&table);
    sd_yt_rollup_destroy(&rollup);
    assert_null(rollup);
}

static void test_rollup_keeps_real_metrics_real(void **state)
{
    (void)state;
    sd_query query = s_video_query();
    sd_yt_rollup *rollup = sd_yt_rollup_new(&query);
    const char *body = "{\"columnHeaders\": [{\"name\": \"video\"}, "
                       "{\"name\": \"estimatedMinutesWatched\"}, {\"name\": \"views\"}], "
                       "\"rows\": [[\"aaaaaaaaaaa\", 1.5, 2], [\"aaaaaaaaaaa\", 2, 3]]}";
    char error[256];
    assert_int_equal(sd_yt_rollup_add(rollup, body, strlen(body), error, sizeof error), 0);
    sd_table_data table = {0};
    assert_int_equal(sd_yt_rollup_table(rollup, &table), 0);
    assert_int_equal(table.row_count, 1);
    assert_int_equal(table.cells[1].kind, SD_VALUE_FLOAT);
    assert_true(table.cells[1].as.f > 3.4999 && table.cells[1].as.f < 3.5001);
    assert_int_equal(table.cells[2].kind, SD_VALUE_INT);
    assert_int_equal(table.cells[2].as.i, 5);
    sd_table_data_clear(&table);
    sd_yt_rollup_destroy(&rollup);
}

static void test_rollup_rejects_bad_tables(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "not json",
        "[]",
        "{\"columnHeaders\": [{\"name\": \"views\"}], \"rows\": []}",
        "{\"columnHeaders\": [{\"name\": \"video\"}, {\"name\": \"views\"}, "
        "{\"name\": \"estimatedMinutesWatched\"}]}",
        "{\"columnHeaders\": [{\"name\": \"video\"}, {\"name\": \"estimatedMinutesWatched\"}, "
        "{\"name\": \"views\"}], \"rows\": [[\"a\", \"12\", 3]]}",
        "{\"columnHeaders\": [{\"name\": \"video\"}, {\"name\": \"estimatedMinutesWatched\"}, "
        "{\"name\": \"views\"}], \"rows\": [[7, 1, 3]]}",
        "{\"columnHeaders\": [{\"name\": \"video\"}, {\"name\": \"estimatedMinutesWatched\"}, "
        "{\"name\": \"views\"}], \"rows\": [[\"a\", 9223372036854775807, 1], "
        "[\"a\", 1, 1]]}",
        "{\"columnHeaders\": [{\"name\": \"video\"}, {\"name\": \"estimatedMinutesWatched\"}, "
        "{\"name\": \"views\"}], \"rows\": {}}",
    };
    sd_query query = s_video_query();
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        sd_yt_rollup *rollup = sd_yt_rollup_new(&query);
        char error[256] = "";
        assert_int_equal(sd_yt_rollup_add(rollup, bodies[i], strlen(bodies[i]), error,
                                          sizeof error), -1);
        assert_true(strlen(error) > 0);
        sd_yt_rollup_destroy(&rollup);
    }
}

//  -------------------------------------------------------------------------
//  Data API bodies

static void test_data_videos_parses_titles(void **state)
{
    (void)state;
    const char *body = "{\"kind\": \"youtube#videoListResponse\", \"items\": ["
                       "{\"id\": \"aaaaaaaaaaa\", \"snippet\": {\"title\": \"First & \\\"quoted\\\"\"}},"
                       "{\"id\": \"bbbbbbbbbbb\", \"snippet\": {\"title\": \"\"}}]}";
    sd_yt_video_title *items = NULL;
    size_t count = 0;
    char error[256] = "";
    assert_int_equal(sd_yt_data_videos(body, strlen(body), &items, &count, error, sizeof error),
                     0);
    assert_int_equal(count, 2);
    assert_string_equal(items[0].id, "aaaaaaaaaaa");
    assert_string_equal(items[0].title, "First & \"quoted\"");
    assert_string_equal(items[1].title, "");
    sd_yt_video_titles_free(&items, count);
    assert_null(items);

    const char *none = "{\"items\": []}";
    assert_int_equal(sd_yt_data_videos(none, strlen(none), &items, &count, error, sizeof error),
                     0);
    assert_int_equal(count, 0);
    assert_null(items);
}

static void test_data_rejects_bad_bodies(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "not json",
        "[]",
        "{\"items\": {}}",
        "{\"items\": [{\"id\": \"a\"}]}",
        "{\"items\": [{\"id\": 7, \"snippet\": {\"title\": \"t\"}}]}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        sd_yt_video_title *items = NULL;
        size_t count = 99;
        char error[256] = "";
        assert_int_equal(sd_yt_data_videos(bodies[i], strlen(bodies[i]), &items, &count, error,
                                           sizeof error), -1);
        assert_null(items);
        assert_int_equal(count, 0);
        assert_true(strlen(error) > 0);
    }
}

static void test_data_channels_and_change(void **state)
{
    (void)state;
    const char *body = "{\"items\": [{\"id\": \"UCa\", \"statistics\": "
                       "{\"subscriberCount\": \"1234\"}}, {\"id\": \"UCb\", \"statistics\": "
                       "{\"subscriberCount\": 56}}]}";
    sd_yt_channel_count *items = NULL;
    size_t count = 0;
    char error[256] = "";
    assert_int_equal(sd_yt_data_channels(body, strlen(body), &items, &count, error,
                                         sizeof error), 0);
    assert_int_equal(count, 2);
    assert_string_equal(items[1].id, "UCb");
    assert_int_equal(items[0].subscribers, 1234);
    assert_int_equal(items[1].subscribers, 56);
    sd_yt_channel_counts_free(&items, count);

    const char *negative = "{\"items\": [{\"id\": \"UCa\", \"statistics\": "
                           "{\"subscriberCount\": \"-1\"}}]}";
    assert_int_equal(sd_yt_data_channels(negative, strlen(negative), &items, &count, error,
                                         sizeof error), -1);

    int64_t change = 99;
    const char *row = "{\"rows\": [[12, 5]]}";
    assert_int_equal(sd_yt_data_change(row, strlen(row), &change, error, sizeof error), 0);
    assert_int_equal(change, 7);
    assert_int_equal(sd_yt_data_change("{}", 2, &change, error, sizeof error), 0);
    assert_int_equal(change, 0);
    const char *two_rows = "{\"rows\": [[1, 0], [2, 0]]}";
    assert_int_equal(sd_yt_data_change(two_rows, strlen(two_rows), &change, error,
                                       sizeof error), -1);

    char text[128];
    const char *google = "{\"error\": {\"code\": 403, \"message\": \"quotaExceeded\"}}";
    assert_string_equal(sd_yt_data_error(403, google, strlen(google), text, sizeof text),
                        "HTTP 403: quotaExceeded");
    assert_string_equal(sd_yt_data_error(502, "<html>", 6, text, sizeof text), "HTTP 502");
}

//  -------------------------------------------------------------------------
//  Queries and URLs

static void test_query_checks(void **state)
{
    (void)state;
    char error[512];
    sd_query query = s_video_query();
    assert_int_equal(sd_yt_query_check(&query, error, sizeof error), 0);

    query.limit = 0;
    assert_int_equal(sd_yt_query_check(&query, error, sizeof error), -1);
    assert_non_null(strstr(error, "limit"));
    query.limit = 201;
    assert_int_equal(sd_yt_query_check(&query, error, sizeof error), -1);

    query = s_video_query();
    query.params_json = "{\"ids\": \"channel==MINE\"}";
    assert_int_equal(sd_yt_query_check(&query, error, sizeof error), -1);
    assert_non_null(strstr(error, "\"ids\""));

    query = s_video_query();
    char *with_title[] = {"video", "title"};
    query.dimensions = (sd_strings){with_title, 2};
    assert_int_equal(sd_yt_query_check(&query, error, sizeof error), -1);
    assert_non_null(strstr(error, SD_YT_API_VIDEOS));

    query = s_video_query();
    query.api = "ga4.runReport";
    assert_int_equal(sd_yt_query_check(&query, error, sizeof error), -1);

    char *count[] = {"subscriberCount"};
    sd_query channels = {.id = "subs", .api = SD_YT_API_CHANNELS, .metrics = {count, 1},
                         .params_json = "{}", .periods = s_periods, .period_count = 1};
    assert_int_equal(sd_yt_query_check(&channels, error, sizeof error), 0);
    channels.metrics = (sd_strings){s_metric_names, 1};
    assert_int_equal(sd_yt_query_check(&channels, error, sizeof error), -1);
}

static void test_videos_query_checks(void **state)
{
    (void)state;
    char error[512];
    char *dimensions[] = {"video", "title"};
    sd_query query = {.id = "titles", .api = SD_YT_API_VIDEOS, .dimensions = {dimensions, 2},
                      .params_json = "{\"ids\": [\"a\", \"b\", \"a\"]}", .periods = s_periods,
                      .period_count = 1};
    assert_int_equal(sd_yt_query_check(&query, error, sizeof error), 0);
    sd_strings ids = {0};
    assert_int_equal(sd_yt_query_video_ids(&query, &ids, error, sizeof error), 0);
    assert_int_equal(ids.count, 2);
    assert_string_equal(ids.items[0], "a");
    assert_string_equal(ids.items[1], "b");
    sd_strings_clear(&ids);

    static const char *const bad_params[] = {
        "{}", "{\"ids\": []}", "{\"ids\": \"a,b\"}", "{\"ids\": [\"a,b\"]}",
        "{\"ids\": [\"\"]}", "{\"ids\": [1]}", "{\"ids\": [\"a\"], \"sort\": \"x\"}",
    };
    for (size_t i = 0; i < sizeof bad_params / sizeof bad_params[0]; i++) {
        query.params_json = (char *)bad_params[i];
        assert_int_equal(sd_yt_query_check(&query, error, sizeof error), -1);
    }
    query.params_json = "{\"ids\": [\"a\"]}";
    query.metrics = (sd_strings){s_metric_names, 1};
    assert_int_equal(sd_yt_query_check(&query, error, sizeof error), -1);
    assert_non_null(strstr(error, "no metrics"));
}

static void test_reports_urls(void **state)
{
    (void)state;
    sd_query query = s_video_query();
    query.params_json = "{\"sort\": \"-estimatedMinutesWatched\", \"filters\": \"country==US\"}";
    char *url = sd_yt_reports_url("http://127.0.0.1:9", &query, "2026-11-01", "2026-11-30",
                                  "UCretrotech0000000000003", "owner 1", NULL);
    assert_string_equal(url, "http://127.0.0.1:9/v2/reports?ids=contentOwner%3D%3Downer%201"
                        "&startDate=2026-11-01&endDate=2026-11-30"
                        "&metrics=estimatedMinutesWatched%2Cviews&dimensions=video"
                        "&filters=channel%3D%3DUCretrotech0000000000003%3Bcountry%3D%3DUS"
                        "&sort=-estimatedMinutesWatched&maxResults=10");
    free(url);
    url = sd_yt_reports_url("http://h", &query, "2026-12-01", "2026-12-01", "UCx", NULL,
                            "subscribersGained,subscribersLost");
    assert_string_equal(url, "http://h/v2/reports?ids=channel%3D%3DMINE&startDate=2026-12-01"
                        "&endDate=2026-12-01&metrics=subscribersGained%2CsubscribersLost");
    free(url);
    const char *ids[] = {"a", "b"};
    url = sd_yt_list_url("http://h/youtube/v3", "videos", "snippet", ids, 2);
    assert_string_equal(url, "http://h/youtube/v3/videos?part=snippet&id=a%2Cb");
    free(url);
}

//  -------------------------------------------------------------------------
//  Secret files

static char s_folder[256];

static char *s_write_file(const char *name, const char *text, mode_t mode)
{
    char *path = zsys_sprintf("%s/%s", s_folder, name);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs(text, file);
    fclose(file);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static void test_client_secret_file(void **state)
{
    (void)state;
    char error[1024];
    char *good = s_write_file("client.json", "{\"installed\": {\"client_id\": \"id-1\", "
                              "\"client_secret\": \"s3cret\", \"token_uri\": \"http://t\"}}",
                              0600);
    sd_oauth_client *client = sd_oauth_client_load(good, error, sizeof error);
    assert_non_null(client);
    assert_string_equal(sd_oauth_client_id(client), "id-1");
    assert_string_equal(sd_oauth_client_token_uri(client), "http://t");
    assert_string_equal(sd_oauth_client_auth_uri(client), "");
    sd_oauth_client_destroy(&client);
    assert_null(client);

    assert_int_equal(chmod(good, 0644), 0);
    assert_null(sd_oauth_client_load(good, error, sizeof error));
    assert_non_null(strstr(error, "chmod 600"));

    char *web = s_write_file("web.json", "{\"web\": {\"client_id\": \"id\"}}", 0600);
    assert_null(sd_oauth_client_load(web, error, sizeof error));
    assert_non_null(strstr(error, "Desktop app"));
    char *no_secret = s_write_file("partial.json", "{\"installed\": {\"client_id\": \"id\"}}",
                                   0600);
    assert_null(sd_oauth_client_load(no_secret, error, sizeof error));
    assert_non_null(strstr(error, "client_secret"));
    assert_null(strstr(error, "s3cret"));
    zstr_free(&good);
    zstr_free(&web);
    zstr_free(&no_secret);
}

static void test_refresh_token_files(void **state)
{
    (void)state;
    char error[1024];
    char *path = zsys_sprintf("%s/channel.token", s_folder);
    assert_int_equal(sd_oauth_refresh_token_write(path, "1//token-a", error, sizeof error), 0);
    struct stat info;
    assert_int_equal(stat(path, &info), 0);
    assert_int_equal(info.st_mode & 0777, 0600);
    char *token = sd_oauth_refresh_token_read(path, error, sizeof error);
    assert_string_equal(token, "1//token-a");
    sd_oauth_secret_free(token);

    //  A second write replaces the file whole.
    assert_int_equal(sd_oauth_refresh_token_write(path, "1//b", error, sizeof error), 0);
    token = sd_oauth_refresh_token_read(path, error, sizeof error);
    assert_string_equal(token, "1//b");
    sd_oauth_secret_free(token);

    assert_int_equal(chmod(path, 0604), 0);
    assert_null(sd_oauth_refresh_token_read(path, error, sizeof error));
    assert_non_null(strstr(error, "chmod 600"));
    char *blank = s_write_file("blank.token", "\n", 0600);
    assert_null(sd_oauth_refresh_token_read(blank, error, sizeof error));
    assert_non_null(strstr(error, "statsdash auth youtube"));
    char *missing = zsys_sprintf("%s/none/x.token", s_folder);
    assert_int_equal(sd_oauth_refresh_token_write(missing, "t", error, sizeof error), -1);
    zstr_free(&path);
    zstr_free(&blank);
    zstr_free(&missing);
}

//  -------------------------------------------------------------------------
//  Paging and probe URLs

static void test_page_and_views_urls(void **state)
{
    (void)state;
    sd_query videos = s_video_query();
    static char *country_names[] = {"country"};
    sd_query countries = s_video_query();
    countries.dimensions = (sd_strings){country_names, 1};
    countries.limit = 0;
    assert_false(sd_yt_query_paged(&videos));
    assert_true(sd_yt_query_paged(&countries));

    //  Two tables asking for the same rows share the calls; another table
    //  id does not matter, another limit or period does.
    sd_query twin = s_video_query();
    twin.id = "videos-again";
    twin.table_id = "t-videos-again";
    assert_true(sd_yt_query_same_calls(&videos, &twin));
    twin.limit = 20;
    assert_false(sd_yt_query_same_calls(&videos, &twin));
    twin.limit = videos.limit;
    sd_period other[] = {{"current", "2026-10-01", "2026-10-31"}};
    twin.periods = other;
    assert_false(sd_yt_query_same_calls(&videos, &twin));
    assert_false(sd_yt_query_same_calls(&videos, &countries));

    char *url = sd_yt_page_url("http://127.0.0.1:1/v2/reports?ids=channel%3D%3DMINE", 10001,
                               10000);
    assert_string_equal(url, "http://127.0.0.1:1/v2/reports?ids=channel%3D%3DMINE"
                             "&startIndex=10001&maxResults=10000");
    free(url);

    url = sd_yt_views_url("http://127.0.0.1:1", "2026-12-01", "UCretrotech0000000000003",
                          "owner1");
    assert_string_equal(url, "http://127.0.0.1:1/v2/reports?ids=contentOwner%3D%3Downer1"
                             "&startDate=2026-12-01&endDate=2026-12-01&metrics=views"
                             "&dimensions=day&filters=channel%3D%3DUCretrotech0000000000003");
    free(url);
    url = sd_yt_views_url("http://127.0.0.1:1", "2026-12-01", "UCretrotech0000000000003", NULL);
    assert_null(strstr(url, "filters="));
    assert_non_null(strstr(url, "ids=channel%3D%3DMINE"));
    free(url);
}

//  -------------------------------------------------------------------------
//  In-flight counter

static int s_released;
static char s_released_key[64];

static void s_on_released(const char *key, void *arg)
{
    (void)arg;
    s_released++;
    snprintf(s_released_key, sizeof s_released_key, "%s", key);
}

static void test_inflight_limits_each_key(void **state)
{
    (void)state;
    sd_inflight *inflight = sd_inflight_new(2);
    sd_inflight_on_release(inflight, s_on_released, NULL);
    s_released = 0;
    assert_true(sd_inflight_take(inflight, "UCa"));
    assert_true(sd_inflight_take(inflight, "UCa"));
    assert_false(sd_inflight_take(inflight, "UCa"));
    assert_true(sd_inflight_take(inflight, "UCb"));
    assert_int_equal(sd_inflight_count(inflight, "UCa"), 2);
    assert_int_equal(sd_inflight_count(inflight, "UCb"), 1);
    assert_int_equal(sd_inflight_count(inflight, "UCc"), 0);

    sd_inflight_release(inflight, "UCa");
    assert_int_equal(s_released, 1);
    assert_string_equal(s_released_key, "UCa");
    assert_int_equal(sd_inflight_count(inflight, "UCa"), 1);
    assert_true(sd_inflight_take(inflight, "UCa"));
    assert_false(sd_inflight_take(inflight, "UCa"));
    assert_int_equal(sd_inflight_peak(inflight, "UCa"), 2);
    assert_int_equal(sd_inflight_peak(inflight, "UCb"), 1);

    sd_inflight_destroy(&inflight);
    assert_null(inflight);
    sd_inflight_destroy(&inflight);

    //  A limit below 1 counts as 1.
    inflight = sd_inflight_new(0);
    assert_true(sd_inflight_take(inflight, "UCa"));
    assert_false(sd_inflight_take(inflight, "UCa"));
    sd_inflight_release(inflight, "UCa");
    assert_int_equal(sd_inflight_count(inflight, "UCa"), 0);
    sd_inflight_destroy(&inflight);
}

static int s_make_folder(void **state)
{
    (void)state;
    snprintf(s_folder, sizeof s_folder, "/tmp/worker-youtube-units-XXXXXX");
    return mkdtemp(s_folder) ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rollup_sums_rows_of_two_ids),
        cmocka_unit_test(test_rollup_keeps_real_metrics_real),
        cmocka_unit_test(test_rollup_rejects_bad_tables),
        cmocka_unit_test(test_data_videos_parses_titles),
        cmocka_unit_test(test_data_rejects_bad_bodies),
        cmocka_unit_test(test_data_channels_and_change),
        cmocka_unit_test(test_query_checks),
        cmocka_unit_test(test_videos_query_checks),
        cmocka_unit_test(test_reports_urls),
        cmocka_unit_test(test_page_and_views_urls),
        cmocka_unit_test(test_inflight_limits_each_key),
        cmocka_unit_test(test_client_secret_file),
        cmocka_unit_test(test_refresh_token_files),
    };
    return cmocka_run_group_tests(tests, s_make_folder, NULL);
}
