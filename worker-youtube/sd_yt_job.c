/*  sd_yt_job: plans the calls of a YouTube fetch job, runs them in stages
    and publishes the parts. One call's work is in sd_yt_call.c.  */
#include "sd_yt_job_internal.h"

#include "sd_log.h"
#include "sd_period.h"
#include "sd_yt_data.h"
#include "sd_yt_query.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  -------------------------------------------------------------------------
//  Publishing

//  Builds the subscriber count table of one period: today's count of each
//  id minus its change since the period ended, summed over the ids.
static int s_count_table(const sd_yt_job *job, size_t q, size_t p, sd_table_data *table,
                         char *error, size_t error_size)
{
    const sd_yt_result *result = &job->results[q];
    size_t ids = job->channel->id_count;
    int64_t total = 0;
    for (size_t i = 0; i < ids; i++) {
        if (result->counts[i] < 0) {
            snprintf(error, error_size, "channel %s: channels.list returned no statistics for "
                     "channel id %s", job->request->site, job->channel->ids[i].id);
            return -1;
        }
        total += result->counts[i] - result->changes[p * ids + i];
    }
    sd_column column = {.name = "subscriberCount", .kind = SD_COLUMN_METRIC, .unit = "count"};
    sd_value *cell = NULL;
    if (sd_table_data_init(table, &column, 1, 1) != 0
        || !(cell = sd_table_data_append_row(table))) {
        snprintf(error, error_size, "out of memory building the subscriber count");
        return -1;
    }
    cell->kind = SD_VALUE_INT;
    cell->as.i = total;
    return 0;
}

//  Builds the titles table of a youtube.videos query: one row per id, with
//  SD_YT_MISSING_TITLE where videos.list returned none.
static int s_titles_table(const sd_yt_result *result, sd_table_data *table)
{
    sd_column columns[] = {{"video", SD_COLUMN_DIMENSION, ""}, {"title", SD_COLUMN_DIMENSION, ""}};
    if (sd_table_data_init(table, columns, 2, result->videos.count) != 0)
        return -1;
    for (size_t i = 0; i < result->videos.count; i++) {
        const char *video = result->videos.items[i];
        const char *title = zhashx_lookup(result->titles, video);
        if (!title)
            title = SD_YT_MISSING_TITLE;
        sd_value *cells = sd_table_data_append_row(table);
        if (!cells || sd_value_set_string(&cells[0], video, strlen(video)) != 0
            || sd_value_set_string(&cells[1], title, strlen(title)) != 0)
            return -1;
    }
    return 0;
}

static void s_publish_part(sd_yt_job *job, size_t q, size_t p)
{
    const sd_query *query = &job->request->queries[q];
    size_t source = job->results[q].source;
    sd_yt_result *result = &job->results[source];
    char error[SD_YT_ERROR_MAX] = "";
    const char *failure = job->job_error ? job->job_error : result->errors[p];
    sd_table_data table = {0};
    int rc = 0;
    if (sd_yt_query_is_channels(query) && !failure)
        rc = s_count_table(job, source, p, &table, error, sizeof error);
    else if (sd_yt_query_is_channels(query))
        rc = sd_table_data_init(&table, &(sd_column){"subscriberCount", SD_COLUMN_METRIC,
                                                     "count"}, 1, 0);
    else if (sd_yt_query_is_videos(query) && !failure)
        rc = s_titles_table(result, &table);
    else if (result->rollups && result->rollups[p])
        rc = sd_yt_rollup_table(result->rollups[p], &table);
    if (rc != 0 && !failure)
        failure = error[0] ? error : "out of memory building the part";
    sd_part_publish(&job->context.bus, job->request, query, p, &table, &result->warnings,
                    failure, &job->base.reply->as.fetch_reply);
}

static void s_log_finish(const sd_yt_job *job, const sd_fetch_reply *reply)
{
    sd_info("job finished: %zu parts published, %zu failed, %zu API calls, %zu from the cache, "
            "%" PRId64 " ms request=%s job=%s channel=%s", reply->part_count,
            sd_fetch_job_failed_parts(reply), job->api_calls, job->cache_hits,
            sd_clock_ms() - job->started_ms, job->request->request_id, job->request->job_id,
            job->request->site);
}

//  Publishes the parts when the reply could be built (sd_fetch_job_finish_fn).
static void s_finish(void *arg, sd_fetch_reply *reply)
{
    sd_yt_job *job = arg;
    if (reply) {
        for (size_t q = 0; q < job->request->query_count; q++)
            for (size_t p = 0; p < job->request->queries[q].period_count; p++)
                s_publish_part(job, q, p);
        s_log_finish(job, reply);
    }
    job->done(job, job->arg);       //  may destroy the job: nothing follows
}

//  -------------------------------------------------------------------------
//  Calls

static sd_yt_call *s_add_call(sd_yt_job *job, sd_yt_call_kind kind, size_t q, char *url)
{
    sd_yt_call **calls = url ? realloc(job->calls, (job->call_count + 1) * sizeof *calls) : NULL;
    sd_yt_call *call = calls ? calloc(1, sizeof *call) : NULL;
    if (calls)
        job->calls = calls;
    if (!call) {
        free(url);
        return NULL;
    }
    *call = (sd_yt_call){.job = job, .kind = kind, .query = q, .url = url};
    job->calls[job->call_count++] = call;
    job->calls_left++;
    return call;
}

void sd_yt_job_pump(sd_yt_job *job)
{
    //  A call may end inside sd_yt_call_start and pump again, so the loop
    //  reads call_count afresh each time.
    for (size_t i = 0; i < job->call_count; i++) {
        sd_yt_call *call = job->calls[i];
        if (call->state != SD_YT_CALL_QUEUED)
            continue;
        const char *key = sd_yt_call_slot_key(call);
        if (sd_inflight_take(job->context.inflight, key))
            sd_yt_call_start(call, key);
    }
}

void sd_yt_job_call_ended(sd_yt_job *job)
{
    if (job->calls_left > 0) {
        sd_yt_job_pump(job);
        return;
    }
    sd_fetch_job_schedule_finish(&job->base);
}

//  -------------------------------------------------------------------------
//  Setting up

//  Adds the reports.query calls of a query: one per period and channel id.
static int s_plan_reports(sd_yt_job *job, size_t q)
{
    const sd_query *query = &job->request->queries[q];
    const sd_config_youtube *youtube = &job->context.config->youtube;
    sd_yt_result *result = &job->results[q];
    result->rollups = calloc(query->period_count + 1, sizeof *result->rollups);
    if (!result->rollups)
        return -1;
    for (size_t p = 0; p < query->period_count; p++) {
        if (!(result->rollups[p] = sd_yt_rollup_new(query)))
            return -1;
        for (size_t i = 0; i < job->channel->id_count; i++) {
            char *url = sd_yt_reports_url(youtube->analytics_api_base, query,
                                          query->periods[p].start, query->periods[p].end,
                                          job->channel->ids[i].id, youtube->content_owner, NULL);
            sd_yt_call *call = s_add_call(job, SD_YT_CALL_REPORT, q, url);
            if (!call)
                return -1;
            call->period = p;
            call->id = i;
            call->start_index = sd_yt_query_paged(query) ? 1 : 0;
        }
    }
    return 0;
}

//  Adds the subscriber change call of (q, p, id) when days passed between
//  the period's end and yesterday. Returns 0 or -1.
static int s_plan_change(sd_yt_job *job, size_t q, size_t p, size_t i)
{
    const sd_query *query = &job->request->queries[q];
    const sd_config_youtube *youtube = &job->context.config->youtube;
    sd_date end, yesterday = sd_date_add_days(sd_date_from_ms(sd_now_ms()), -1);
    if (sd_date_parse(query->periods[p].end, &end) != 0)
        return 0;                   //  the reports call of the period reports the bad date
    sd_date first = sd_date_add_days(end, 1);
    if (sd_date_compare(first, yesterday) > 0)
        return 0;
    char start_text[11], end_text[11];
    sd_date_format(first, start_text);
    sd_date_format(yesterday, end_text);
    char *url = sd_yt_reports_url(youtube->analytics_api_base, query, start_text, end_text,
                                  job->channel->ids[i].id, youtube->content_owner,
                                  "subscribersGained,subscribersLost");
    sd_yt_call *call = s_add_call(job, SD_YT_CALL_CHANGE, q, url);
    if (!call)
        return -1;
    call->period = p;
    call->id = i;
    return 0;
}

//  Adds the channels.list calls (50 ids each) and the change calls.
static int s_plan_channels(sd_yt_job *job, size_t q)
{
    const sd_query *query = &job->request->queries[q];
    sd_yt_result *result = &job->results[q];
    size_t ids = job->channel->id_count;
    result->counts = malloc((ids + 1) * sizeof *result->counts);
    result->changes = calloc(query->period_count * ids + 1, sizeof *result->changes);
    if (!result->counts || !result->changes)
        return -1;
    for (size_t i = 0; i < ids; i++)
        result->counts[i] = -1;
    for (size_t first = 0; first < ids; first += SD_YT_LIST_MAX_IDS) {
        const char *list[SD_YT_LIST_MAX_IDS];
        size_t count = ids - first < SD_YT_LIST_MAX_IDS ? ids - first : SD_YT_LIST_MAX_IDS;
        for (size_t i = 0; i < count; i++)
            list[i] = job->channel->ids[first + i].id;
        char *url = sd_yt_list_url(job->context.config->youtube.data_api_base, "channels",
                                   "statistics", list, count);
        sd_yt_call *call = s_add_call(job, SD_YT_CALL_CHANNELS, q, url);
        if (!call)
            return -1;
        call->id = first;
        call->id_count = count;
    }
    for (size_t p = 0; p < query->period_count; p++)
        for (size_t i = 0; i < ids; i++)
            if (s_plan_change(job, q, p, i) != 0)
                return -1;
    return 0;
}

//  Adds the videos.list calls of a youtube.videos query, 50 ids each.
static int s_plan_videos(sd_yt_job *job, size_t q)
{
    sd_yt_result *result = &job->results[q];
    char error[SD_YT_ERROR_MAX];
    result->titles = zhashx_new();
    if (!result->titles
        || sd_yt_query_video_ids(&job->request->queries[q], &result->videos, error,
                                 sizeof error) != 0)
        return -1;                  //  the query was checked, so only memory can fail
    zhashx_set_destructor(result->titles, (zhashx_destructor_fn *)zstr_free);
    size_t ids = result->videos.count;
    for (size_t first = 0; first < ids; first += SD_YT_LIST_MAX_IDS) {
        size_t count = ids - first < SD_YT_LIST_MAX_IDS ? ids - first : SD_YT_LIST_MAX_IDS;
        char *url = sd_yt_list_url(job->context.config->youtube.data_api_base, "videos",
                                   "snippet", (const char *const *)&result->videos.items[first],
                                   count);
        if (!s_add_call(job, SD_YT_CALL_VIDEOS, q, url))
            return -1;
    }
    return 0;
}

//  Plans one query, or records why it cannot run in its periods' errors.
static int s_plan_query(sd_yt_job *job, size_t q)
{
    const sd_query *query = &job->request->queries[q];
    sd_yt_result *result = &job->results[q];
    char error[SD_YT_ERROR_MAX];
    result->source = q;
    result->errors = calloc(query->period_count + 1, sizeof *result->errors);
    if (!result->errors)
        return -1;
    if (sd_yt_query_check(query, error, sizeof error) != 0) {
        sd_warning("%s request=%s job=%s channel=%s", error, job->request->request_id,
                   job->request->job_id, job->request->site);
        for (size_t p = 0; p < query->period_count; p++)
            result->errors[p] = zsys_sprintf("channel %s: %s", job->request->site, error);
        return 0;
    }
    for (size_t earlier = 0; earlier < q; earlier++) {
        if (job->results[earlier].source == earlier
            && sd_yt_query_same_calls(&job->request->queries[earlier], query)) {
            result->source = earlier;
            return 0;
        }
    }
    if (sd_yt_query_is_videos(query))
        return s_plan_videos(job, q);
    return sd_yt_query_is_channels(query) ? s_plan_channels(job, q) : s_plan_reports(job, q);
}

//  Sets job_error when the job cannot run at all.
static void s_check_job(sd_yt_job *job)
{
    const sd_fetch_request *request = job->request;
    job->channel = sd_config_find_channel(job->context.config, request->site);
    if (!job->channel)
        job->job_error = zsys_sprintf("channel %s is not in youtube.channels of the worker's "
                                      "config %s", request->site, job->context.config->path);
    else if (job->channel->id_count == 0)
        job->job_error = zsys_sprintf("channel %s has no channel ids in the worker's config",
                                      request->site);
    else if (request->deadline_ms > 0 && request->deadline_ms <= sd_clock_ms())
        job->job_error = zsys_sprintf("channel %s: the job's deadline passed before it started",
                                      request->site);
    if (job->job_error)
        sd_error("%s request=%s job=%s channel=%s", job->job_error, request->request_id,
                 request->job_id, request->site);
}

static int s_plan(sd_yt_job *job)
{
    job->results = calloc(job->request->query_count + 1, sizeof *job->results);
    if (!job->results)
        return -1;
    for (size_t q = 0; q < job->request->query_count; q++)
        job->results[q].source = q;
    if (job->job_error)
        return 0;
    for (size_t q = 0; q < job->request->query_count; q++)
        if (s_plan_query(job, q) != 0)
            return -1;
    return 0;
}

sd_yt_job *sd_yt_job_new(const sd_yt_context *context, sd_msg **request,
                         sd_yt_job_done_fn *done, void *arg)
{
    sd_yt_job *job = calloc(1, sizeof *job);
    if (!job) {
        sd_msg_destroy(request);
        return NULL;
    }
    job->context = *context;
    sd_fetch_job_init(&job->base, context->loop, request, "channel", s_finish, job);
    job->request = job->base.request;
    job->done = done;
    job->arg = arg;
    return job;
}

int sd_yt_job_start(sd_yt_job *job)
{
    job->started_ms = sd_clock_ms();
    s_check_job(job);
    if (s_plan(job) != 0) {
        sd_error("out of memory planning the job request=%s job=%s channel=%s",
                 job->request->request_id, job->request->job_id, job->request->site);
        free(job->job_error);
        job->job_error = strdup("the YouTube worker ran out of memory planning the job");
        for (size_t i = 0; i < job->call_count; i++)
            job->calls[i]->state = SD_YT_CALL_DONE;
        job->calls_left = 0;
    }
    sd_info("job started: %zu queries, %zu API calls planned request=%s job=%s channel=%s",
            job->request->query_count, job->call_count, job->request->request_id,
            job->request->job_id, job->request->site);
    if (job->calls_left == 0)
        return sd_fetch_job_schedule_finish(&job->base);
    sd_yt_job_pump(job);
    return 0;
}

zmsg_t *sd_yt_job_take_reply(sd_yt_job *job)
{
    return sd_fetch_job_take_reply(&job->base);
}

const sd_fetch_request *sd_yt_job_request(const sd_yt_job *job)
{
    return job->request;
}

static void s_result_clear(sd_yt_result *result, const sd_query *query)
{
    for (size_t p = 0; p < query->period_count; p++) {
        if (result->rollups)
            sd_yt_rollup_destroy(&result->rollups[p]);
        if (result->errors)
            free(result->errors[p]);
    }
    free(result->rollups);
    free(result->errors);
    free(result->counts);
    free(result->changes);
    sd_strings_clear(&result->videos);
    zhashx_destroy(&result->titles);
    sd_strings_clear(&result->warnings);
}

void sd_yt_job_destroy(sd_yt_job **job_p)
{
    sd_yt_job *job = *job_p;
    if (!job)
        return;
    for (size_t i = 0; i < job->call_count; i++)
        sd_yt_call_destroy(&job->calls[i]);
    free(job->calls);
    for (size_t q = 0; job->results && q < job->request->query_count; q++)
        s_result_clear(&job->results[q], &job->request->queries[q]);
    free(job->results);
    zstr_free(&job->job_error);
    sd_fetch_job_clear(&job->base);
    free(job);
    *job_p = NULL;
}
