/*  sd_reply_fit and sd_format_text_cut: a report reply keeps within the
    limits its peer decodes with, and long text values are cut on a
    character boundary.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sd_format.h"
#include "sd_reply_fit.h"

//  Appends an output of size bytes of 'x' to the reply.
static void s_add_output(sd_msg *msg, const char *format, size_t size)
{
    sd_report_reply *reply = &msg->as.report_reply;
    sd_output *outputs = realloc(reply->outputs, (reply->output_count + 1) * sizeof *outputs);
    assert_non_null(outputs);
    reply->outputs = outputs;
    sd_output *output = &outputs[reply->output_count++];
    output->format = strdup(format);
    output->content_type = strdup("text/plain");
    output->body = malloc(size);
    assert_non_null(output->body);
    memset(output->body, 'x', size);
    output->body_size = size;
}

static sd_msg *s_reply(void)
{
    sd_msg *msg = sd_msg_new(SD_MSG_REPORT_REPLY);
    assert_non_null(msg);
    msg->as.report_reply.request_id = strdup("r1");
    msg->as.report_reply.status = strdup("complete");
    msg->as.report_reply.subject = strdup("subject");
    return msg;
}

static void fit_drops_output_over_string_limit(void **state)
{
    (void)state;
    sd_proto_limits limits;
    sd_proto_limits_default(&limits);
    limits.max_string_bytes = 1000;
    sd_msg *msg = s_reply();
    s_add_output(msg, "json", 1000);
    s_add_output(msg, "html", 1001);
    assert_int_equal(sd_reply_fit(msg, &limits), 1);
    const sd_report_reply *reply = &msg->as.report_reply;
    assert_int_equal(reply->output_count, 1);
    assert_string_equal(reply->outputs[0].format, "json");
    assert_int_equal(reply->warnings.count, 1);
    assert_non_null(strstr(reply->warnings.items[0], "html output was left out"));
    sd_msg_destroy(&msg);
}

static void fit_drops_largest_over_message_limit(void **state)
{
    (void)state;
    sd_proto_limits limits;
    sd_proto_limits_default(&limits);
    limits.max_message_bytes = 5000;
    sd_msg *msg = s_reply();
    s_add_output(msg, "json", 2000);
    s_add_output(msg, "html", 3000);
    s_add_output(msg, "csv", 1000);
    assert_int_equal(sd_reply_fit(msg, &limits), 1);
    const sd_report_reply *reply = &msg->as.report_reply;
    assert_int_equal(reply->output_count, 2);
    assert_string_equal(reply->outputs[0].format, "json");
    assert_string_equal(reply->outputs[1].format, "csv");
    uint8_t *data = NULL;
    size_t size = 0;
    sd_proto_error err;
    assert_int_equal(sd_msg_encode(msg, &data, &size, &err), 0);
    assert_true(size <= limits.max_message_bytes);
    free(data);
    sd_msg_destroy(&msg);
}

static void fit_keeps_reply_within_limits(void **state)
{
    (void)state;
    sd_proto_limits limits;
    sd_proto_limits_default(&limits);
    sd_msg *msg = s_reply();
    s_add_output(msg, "json", 100);
    assert_int_equal(sd_reply_fit(msg, &limits), 0);
    assert_int_equal(msg->as.report_reply.output_count, 1);
    assert_int_equal(msg->as.report_reply.warnings.count, 0);
    sd_msg_destroy(&msg);
}

//  300 two-byte characters fit; a 301st is cut before its first byte.
static void text_cut_on_character_boundary(void **state)
{
    (void)state;
    char text[2 * 301 + 1];
    for (size_t i = 0; i < 301; i++)
        memcpy(text + 2 * i, "\xC3\xA9", 2);
    assert_int_equal(sd_format_text_cut(text, 600), 600);
    assert_int_equal(sd_format_text_cut(text, 602), 600);
    assert_int_equal(sd_format_text_cut("short", 5), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fit_drops_output_over_string_limit),
        cmocka_unit_test(fit_drops_largest_over_message_limit),
        cmocka_unit_test(fit_keeps_reply_within_limits),
        cmocka_unit_test(text_cut_on_character_boundary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
