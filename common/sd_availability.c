/*  sd_availability: availability.request validation and reply.  */
#include "sd_availability.h"

#include "sd_log.h"
#include "sd_part.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

char *sd_availability_check_request(const sd_availability_request *request,
                                    const char *service, const char *label, sd_date *date)
{
    char *error = NULL;
    if (strcmp(request->service, service) != 0)
        error = zsys_sprintf("the %s worker checks service \"%s\", not \"%s\"", label, service,
                             request->service);
    else if (sd_date_parse(request->date, date) != 0)
        error = zsys_sprintf("date \"%s\" is not a YYYY-MM-DD calendar date", request->date);
    if (error)
        sd_warning("rejected an availability request: %s id=%s", error, request->id);
    return error;
}

//  Fills the availability of site s. Returns 0 or -1 when out of memory.
static int s_site_result(const sd_availability_request *request, size_t s,
                         sd_availability_detail_fn *detail_fn, const void *check,
                         sd_site_availability *out)
{
    char detail[SD_AVAILABILITY_DETAIL_MAX] = "";
    detail_fn(check, s, detail, sizeof detail);
    out->site = strdup(request->sites.items[s]);
    out->complete = detail[0] == '\0';
    out->detail = strdup(detail);
    return out->site && out->detail ? 0 : -1;
}

zmsg_t *sd_availability_reply_encode(const sd_availability_request *request,
                                     const char *request_error,
                                     sd_availability_detail_fn *detail_fn, const void *check)
{
    if (request_error)
        return sd_part_error_reply(request->id, SD_ERROR_BAD_REQUEST, request_error);
    sd_msg *msg = sd_msg_new(SD_MSG_AVAILABILITY_REPLY);
    if (!msg)
        return NULL;
    sd_availability_reply *reply = &msg->as.availability_reply;
    reply->id = strdup(request->id);
    reply->date = strdup(request->date);
    reply->sites = calloc(request->sites.count + 1, sizeof *reply->sites);
    bool filled = reply->id && reply->date && reply->sites;
    for (size_t s = 0; filled && s < request->sites.count; s++) {
        filled = s_site_result(request, s, detail_fn, check, &reply->sites[s]) == 0;
        reply->site_count = s + 1;
    }
    zmsg_t *encoded = filled ? sd_part_encode(msg) : NULL;
    sd_msg_destroy(&msg);
    return encoded;
}

int sd_availability_base_init(sd_availability_base *base, zloop_t *loop, sd_msg **request,
                              sd_availability_detail_fn *detail,
                              sd_availability_finish_fn *finish, void *check)
{
    *base = (sd_availability_base){
        .loop = loop,
        .request_msg = *request,
        .request = &(*request)->as.availability_request,
        .finish_timer = -1,
        .detail = detail,
        .finish = finish,
        .check = check,
    };
    *request = NULL;
    base->site_errors = calloc(base->request->sites.count + 1, sizeof *base->site_errors);
    return base->site_errors ? 0 : -1;
}

static int s_on_finish_timer(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sd_availability_base *base = arg;
    base->finish_timer = -1;
    base->reply = sd_availability_reply_encode(base->request, base->request_error, base->detail,
                                               base->check);
    base->finish(base->check);      //  may destroy the check: nothing follows
    return 0;
}

int sd_availability_schedule_finish(sd_availability_base *base)
{
    if (base->finish_timer >= 0)
        return 0;
    base->finish_timer = zloop_timer(base->loop, 0, 1, s_on_finish_timer, base);
    if (base->finish_timer >= 0)
        return 0;
    sd_error("cannot set a timer to finish the availability check id=%s", base->request->id);
    return -1;
}

zmsg_t *sd_availability_take_reply(sd_availability_base *base)
{
    zmsg_t *reply = base->reply;
    base->reply = NULL;
    return reply;
}

void sd_availability_base_clear(sd_availability_base *base)
{
    for (size_t s = 0; base->site_errors && s < base->request->sites.count; s++)
        zstr_free(&base->site_errors[s]);
    free(base->site_errors);
    base->site_errors = NULL;
    if (base->finish_timer >= 0)
        zloop_timer_end(base->loop, base->finish_timer);
    base->finish_timer = -1;
    zmsg_destroy(&base->reply);
    zstr_free(&base->request_error);
    sd_msg_destroy(&base->request_msg);
    base->request = NULL;
}
