/*  sd_reply_fit: drops the outputs that would make a report.reply too
    large for its peer.  */
#include "sd_reply_fit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_log.h"

//  Removes output index from reply and adds a warning: "the html output
//  was left out: " and reason.
static int s_drop(sd_report_reply *reply, size_t index, const char *reason)
{
    sd_output *output = &reply->outputs[index];
    char warning[300];
    snprintf(warning, sizeof warning, "the %s output was left out: %s",
             output->format ? output->format : "unnamed", reason);
    sd_warning("%s request=%s", warning, reply->request_id ? reply->request_id : "");
    free(output->format);
    free(output->content_type);
    free(output->body);
    memmove(output, output + 1, (reply->output_count - index - 1) * sizeof *output);
    reply->output_count--;
    return sd_strings_push(&reply->warnings, warning);
}

//  Returns the encoded size of msg, or 0 when it cannot be encoded.
static size_t s_encoded_size(const sd_msg *msg)
{
    uint8_t *data = NULL;
    size_t size = 0;
    sd_proto_error err;
    if (sd_msg_encode(msg, &data, &size, &err) != 0) {
        sd_error("report reply not encoded: %s: %s", err.field, err.text);
        size = 0;
    }
    free(data);
    return size;
}

//  Returns the index of the largest output; reply has at least one.
static size_t s_largest(const sd_report_reply *reply)
{
    size_t largest = 0;
    for (size_t i = 1; i < reply->output_count; i++)
        if (reply->outputs[i].body_size > reply->outputs[largest].body_size)
            largest = i;
    return largest;
}

int sd_reply_fit(sd_msg *msg, const sd_proto_limits *limits)
{
    sd_report_reply *reply = &msg->as.report_reply;
    int dropped = 0;
    for (size_t i = reply->output_count; i-- > 0;) {
        if (reply->outputs[i].body_size <= limits->max_string_bytes)
            continue;
        char reason[160];
        snprintf(reason, sizeof reason, "it is %zu bytes, over the limit of %zu bytes for one "
                 "output", reply->outputs[i].body_size, limits->max_string_bytes);
        if (s_drop(reply, i, reason) != 0)
            return -1;
        dropped++;
    }
    size_t size = s_encoded_size(msg);
    while (size > limits->max_message_bytes && reply->output_count > 0) {
        char reason[160];
        snprintf(reason, sizeof reason, "the reply was %zu bytes, over the limit of %zu bytes "
                 "for one message", size, limits->max_message_bytes);
        if (s_drop(reply, s_largest(reply), reason) != 0)
            return -1;
        dropped++;
        size = s_encoded_size(msg);
    }
    return size > 0 ? dropped : -1;
}
