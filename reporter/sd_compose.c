/*  sd_compose: renders a finished report and wraps it in a report.reply.  */
#include "sd_compose.h"

#include <stdlib.h>
#include <string.h>

#include "sd_document.h"
#include "sd_render_csv.h"
#include "sd_render_html.h"
#include "sd_render_json.h"

typedef char *(s_render_fn)(const sd_document *document, size_t *size);

typedef struct {
    const char *format;
    const char *content_type;
    s_render_fn *render;
} s_renderer;

static const s_renderer s_renderers[] = {
    {"html", "text/html; charset=utf-8", sd_render_html},
    {"json", "application/json", sd_render_json},
    {"csv", "text/csv; charset=utf-8", sd_render_csv},
};

static const s_renderer *s_find_renderer(const char *format)
{
    for (size_t i = 0; i < sizeof s_renderers / sizeof s_renderers[0]; i++) {
        if (strcmp(s_renderers[i].format, format) == 0)
            return &s_renderers[i];
    }
    return NULL;
}

static int s_add_output(sd_report_reply *reply, const sd_document *document, const char *format)
{
    const s_renderer *renderer = s_find_renderer(format);
    if (!renderer)
        return -1;
    sd_output *output = &reply->outputs[reply->output_count];
    size_t size = 0;
    char *body = renderer->render(document, &size);
    if (!body)
        return -1;
    reply->output_count++;
    output->body = (uint8_t *)body;
    output->body_size = size;
    output->format = strdup(renderer->format);
    output->content_type = strdup(renderer->content_type);
    return output->format && output->content_type ? 0 : -1;
}

static int s_copy_strings(sd_strings *dst, const sd_strings *src)
{
    for (size_t i = 0; i < src->count; i++) {
        if (sd_strings_push(dst, src->items[i]) != 0)
            return -1;
    }
    return 0;
}

const char *sd_compose_subject(const sd_plan *plan, const sd_report_request *request)
{
    return request->subject && *request->subject ? request->subject : plan->subject;
}

sd_msg *sd_compose_reply(const sd_plan *plan, sd_msg *const *tables, const sd_outcome *outcome,
                         const sd_report_request *request)
{
    const sd_strings *formats = &request->formats;
    const char *subject = sd_compose_subject(plan, request);
    sd_document_table *entries = calloc(plan->table_count ? plan->table_count : 1,
                                        sizeof *entries);
    sd_msg *msg = sd_msg_new(SD_MSG_REPORT_REPLY);
    size_t format_count = formats->count ? formats->count : 1;
    if (!entries || !msg)
        goto fail;
    size_t visible_count = 0;
    for (size_t t = 0; t < plan->table_count; t++) {
        if (plan->tables[t].def->hidden)
            continue;
        entries[visible_count].def = plan->tables[t].def;
        entries[visible_count++].table = tables[t] ? &tables[t]->as.table_normalized : NULL;
    }
    const char *status = outcome->partial ? "partial" : "complete";
    sd_document document = {
        .report = plan->report->name,
        .subject = subject,
        .frequency = plan->frequency,
        .periods = &plan->periods,
        .status = status,
        .missing = &outcome->missing,
        .warnings = &outcome->warnings,
        .quality = sd_outcome_quality(outcome, plan->report->service),
        .tables = entries,
        .table_count = visible_count,
        .csv_single_table = plan->report->csv_single_table,
    };

    sd_report_reply *reply = &msg->as.report_reply;
    reply->request_id = strdup(plan->request_id);
    reply->status = strdup(status);
    reply->subject = strdup(subject);
    reply->outputs = calloc(format_count, sizeof *reply->outputs);
    if (!reply->request_id || !reply->status || !reply->subject || !reply->outputs ||
        s_copy_strings(&reply->missing, &outcome->missing) != 0 ||
        s_copy_strings(&reply->warnings, &outcome->warnings) != 0)
        goto fail;
    for (size_t i = 0; i < format_count; i++) {
        if (s_add_output(reply, &document, formats->count ? formats->items[i] : "html") != 0)
            goto fail;
    }
    free(entries);
    return msg;
fail:
    free(entries);
    sd_msg_destroy(&msg);
    return NULL;
}
