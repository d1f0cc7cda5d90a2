/*  mail_tool: mails a hand-built ga-core report with sd_delivery, for
    reporter_mail.py.

    Usage: mail_tool CONFIG SUBJECT DELIVERY_ID RECIPIENTS HTML_FILE

    Plans a MONTHLY ga-core report for November 2026 over every site of
    CONFIG, fills its summary, site summary (one row per configured site,
    so hostile site names reach the cells) and device share tables with
    fixed figures, and runs one delivery on a zloop. RECIPIENTS is a
    comma-separated list. The file form of the HTML (charts as data URIs)
    is written to HTML_FILE. Prints one JSON line: {"status", "delivered",
    "warnings"}, or {"error"} when the request is rejected; exits 0 either
    way, 1 on a setup failure.
*/
#include <czmq.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "sd_chart.h"
#include "sd_compose.h"
#include "sd_delivery.h"
#include "sd_log.h"
#include "sd_outcome.h"
#include "sd_period.h"
#include "sd_plan.h"
#include "sd_templates.h"

static const char *const s_devices[] = {"desktop", "mobile", "tablet"};

//  Users per device and month, with the shares computed here.
static sd_msg *s_device_months(const char *request_id, const char *id_prefix)
{
    sd_msg *msg = sd_msg_new(SD_MSG_TABLE_NORMALIZED);
    sd_table_normalized *table = &msg->as.table_normalized;
    table->request_id = strdup(request_id);
    table->reporter_id = strdup("rep1");
    char table_id[160];
    snprintf(table_id, sizeof table_id, "%s.device_months", id_prefix);
    table->table_id = strdup(table_id);
    sd_column columns[] = {{"month", SD_COLUMN_DIMENSION, ""},
                           {"device", SD_COLUMN_DIMENSION, ""},
                           {"users", SD_COLUMN_METRIC, "count"},
                           {"share_of_users", SD_COLUMN_METRIC, "percent"}};
    sd_table_data_init(&table->data, columns, 4, 36);
    for (int month = 0; month < 12; month++) {
        int64_t users[3] = {50000 - month * 1500, 30000 + month * 2000, 8000 - month * 100};
        double total = (double)(users[0] + users[1] + users[2]);
        for (int d = 0; d < 3; d++) {
            sd_value *cells = sd_table_data_append_row(&table->data);
            char label[16];
            snprintf(label, sizeof label, "%04d-%02d", month < 1 ? 2025 : 2026,
                     month < 1 ? 12 : month);
            sd_value_set_string(&cells[0], label, strlen(label));
            sd_value_set_string(&cells[1], s_devices[d], strlen(s_devices[d]));
            cells[2].kind = SD_VALUE_INT;
            cells[2].as.i = users[d];
            cells[3].kind = SD_VALUE_FLOAT;
            cells[3].as.f = (double)users[d] / total * 100;
        }
    }
    return msg;
}

//  Fills the planned tables this tool has figures for.
static int s_fill_tables(const sd_plan *plan, const sd_config *config, sd_msg **tables)
{
    char table_id[160];
    fixture_row total = {NULL, {0}, {0}, {0}};
    fixture_row *rows = calloc(config->ga.site_count, sizeof *rows);
    for (size_t i = 0; rows && i < config->ga.site_count; i++) {
        double scale = (double)(config->ga.site_count - i);
        rows[i] = (fixture_row){config->ga.sites[i].name,
                                {123456 * scale, 45678 * scale, 50000 * scale, 2.46, 2.5},
                                {117800 * scale, 46000 * scale, 48000 * scale, 2.45, 2.4},
                                {246913 * scale, 40000 * scale, 25000 * scale, 9.87, 3.1}};
        for (size_t m = 0; m < FIXTURE_METRICS; m++) {
            total.current[m] += m < 3 ? rows[i].current[m] : 0;
            total.previous[m] += m < 3 ? rows[i].previous[m] : 0;
            total.yearly[m] += m < 3 ? rows[i].yearly[m] : 0;
        }
    }
    if (!rows)
        return -1;
    total.current[3] = total.previous[3] = total.yearly[3] = 2.5;
    total.current[4] = total.previous[4] = total.yearly[4] = 2.0;
    static const char *const names[] = {"summary", "site_summary", "device_months"};
    for (size_t n = 0; n < 3; n++) {
        snprintf(table_id, sizeof table_id, "%s.%s", plan->id_prefix, names[n]);
        int index = sd_plan_find_table(plan, table_id);
        if (index < 0)
            continue;
        tables[index] = n == 0   ? fixture_table(plan->request_id, table_id, &total, 1, false)
                        : n == 1 ? fixture_table(plan->request_id, table_id, rows,
                                                 config->ga.site_count, true)
                                 : s_device_months(plan->request_id, plan->id_prefix);
    }
    free(rows);
    return 0;
}

typedef struct {
    zloop_t *loop;
    sd_msg *reply;
} s_state;

static void s_on_done(sd_msg **reply, void *arg)
{
    s_state *state = arg;
    state->reply = *reply;
    *reply = NULL;
}

static int s_on_tick(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_state *state = arg;
    return state->reply ? -1 : 0;
}

static void s_print_reply(const sd_msg *msg)
{
    const sd_report_reply *reply = &msg->as.report_reply;
    json_t *warnings = json_array();
    for (size_t i = 0; i < reply->warnings.count; i++)
        json_array_append_new(warnings, json_string(reply->warnings.items[i]));
    json_t *line = json_pack("{s:s, s:b, s:o, s:s}", "status", reply->status, "delivered",
                             reply->delivered, "warnings", warnings, "subject", reply->subject);
    char *text = json_dumps(line, JSON_COMPACT);
    printf("%s\n", text);
    free(text);
    json_decref(line);
}

static sd_msg *s_request(const char *subject, const char *delivery_id, const char *recipients)
{
    sd_msg *msg = sd_msg_new(SD_MSG_REPORT_REQUEST);
    sd_report_request *request = &msg->as.report_request;
    request->request_id = strdup("mail1");
    request->report = strdup("ga-core");
    request->frequency = strdup("MONTHLY");
    request->date = strdup("2026-11-30");
    request->delivery_id = strdup(delivery_id);
    request->yearly_alignment = strdup("calendar");
    request->subject = strdup(subject);
    request->deadline_ms = sd_clock_ms() + 40000;
    sd_strings_push(&request->sites, "all");
    sd_strings_push(&request->formats, "html");
    char *list = strdup(recipients);
    for (char *save = NULL, *item = strtok_r(list, ",", &save); item;
         item = strtok_r(NULL, ",", &save))
        sd_strings_push(&request->recipients, item);
    free(list);
    return msg;
}

static int s_write_file(const char *path, const sd_msg *reply)
{
    FILE *file = fopen(path, "wb");
    if (!file)
        return -1;
    const sd_output *output = &reply->as.report_reply.outputs[0];
    fwrite(output->body, 1, output->body_size, file);
    return fclose(file);
}

//  Renders, writes the file form, and mails.
static int s_run(sd_config *config, sd_msg *msg, const char *html_path)
{
    const sd_report_request *request = &msg->as.report_request;
    zloop_t *loop = zloop_new();
    char error[600];
    sd_delivery *delivery = sd_delivery_new(config, loop, error, sizeof error);
    if (!delivery) {
        fprintf(stderr, "mail_tool: %s\n", error);
        zloop_destroy(&loop);
        return 1;
    }
    s_state state = {loop, NULL};
    if (sd_delivery_check_request(request, error, sizeof error) != 0) {
        json_t *line = json_pack("{s:s}", "error", error);
        char *text = json_dumps(line, JSON_COMPACT);
        printf("%s\n", text);
        free(text);
        json_decref(line);
    } else if ((state.reply = sd_delivery_already_sent(delivery, request))) {
        s_print_reply(state.reply);
    } else {
        sd_plan_error err;
        sd_plan *plan = sd_plan_new(request, config, "rep1", &err);
        sd_msg **tables = plan ? calloc(plan->table_count + 1, sizeof *tables) : NULL;
        sd_outcome outcome = {0};
        if (!tables || s_fill_tables(plan, config, tables) != 0) {
            fprintf(stderr, "mail_tool: plan failed: %s %s\n", err.field, err.text);
            exit(1);
        }
        sd_strings_push(&outcome.missing, config->ga.sites[0].name);
        char warning[300];
        snprintf(warning, sizeof warning, "%s: HTTP 503 <from> the API", config->ga.sites[0].name);
        sd_strings_push(&outcome.warnings, warning);
        outcome.partial = true;
        sd_msg *reply = sd_compose_reply(plan, tables, &outcome, request);
        if (!reply || s_write_file(html_path, reply) != 0) {
            fprintf(stderr, "mail_tool: rendering failed\n");
            exit(1);
        }
        sd_delivery_start(delivery, plan, tables, &outcome, request, &reply, s_on_done, &state);
        zloop_timer(loop, 20, 0, s_on_tick, &state);
        zloop_start(loop);
        if (state.reply)
            s_print_reply(state.reply);
        for (size_t t = 0; t < plan->table_count; t++)
            sd_msg_destroy(&tables[t]);
        free(tables);
        sd_outcome_clear(&outcome);
        sd_plan_destroy(&plan);
    }
    sd_msg_destroy(&state.reply);
    sd_delivery_destroy(&delivery);
    zloop_destroy(&loop);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: mail_tool CONFIG SUBJECT DELIVERY_ID RECIPIENTS HTML_FILE\n");
        return 1;
    }
    sd_log_open("mail_tool", SD_LOG_INFO, false);
    sd_config_error err;
    sd_config *config = sd_config_load(argv[1], &err);
    if (!config) {
        fprintf(stderr, "mail_tool: config rejected: %s: %s\n", err.key, err.text);
        return 1;
    }
    sd_templates_set_dir(config->reporter.templates_dir);
    sd_msg *request = s_request(argv[2], argv[3], argv[4]);
    int status = s_run(config, request, argv[5]);
    sd_msg_destroy(&request);
    sd_config_destroy(&config);
    sd_templates_reset();
    sd_chart_shutdown();
    sd_log_close();
    return status;
}
