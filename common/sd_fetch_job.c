/*  sd_fetch_job: request ownership, the finish timer and the reply.  */
#include "sd_fetch_job.h"

#include "sd_log.h"
#include "sd_part.h"

void sd_fetch_job_init(sd_fetch_job *base, zloop_t *loop, sd_msg **request,
                       const char *site_key, sd_fetch_job_finish_fn *finish, void *job)
{
    *base = (sd_fetch_job){
        .loop = loop,
        .request_msg = *request,
        .request = &(*request)->as.fetch_request,
        .site_key = site_key,
        .finish_timer = -1,
        .finish = finish,
        .job = job,
    };
    *request = NULL;
}

static int s_on_finish_timer(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sd_fetch_job *base = arg;
    const sd_fetch_request *request = base->request;
    base->finish_timer = -1;
    base->reply = sd_part_reply_new(request);
    if (!base->reply)
        sd_error("out of memory building the fetch reply request=%s job=%s %s=%s",
                 request->request_id, request->job_id, base->site_key, request->site);
    //  may destroy the job: nothing follows
    base->finish(base->job, base->reply ? &base->reply->as.fetch_reply : NULL);
    return 0;
}

int sd_fetch_job_schedule_finish(sd_fetch_job *base)
{
    const sd_fetch_request *request = base->request;
    if (base->finish_timer >= 0)
        return 0;
    base->finish_timer = zloop_timer(base->loop, 0, 1, s_on_finish_timer, base);
    if (base->finish_timer >= 0)
        return 0;
    sd_error("cannot set a timer to finish the job request=%s job=%s %s=%s",
             request->request_id, request->job_id, base->site_key, request->site);
    return -1;
}

size_t sd_fetch_job_failed_parts(const sd_fetch_reply *reply)
{
    size_t failed = 0;
    for (size_t i = 0; i < reply->part_count; i++)
        failed += reply->parts[i].error != NULL;
    return failed;
}

zmsg_t *sd_fetch_job_take_reply(const sd_fetch_job *base)
{
    return base->reply ? sd_part_encode(base->reply) : NULL;
}

void sd_fetch_job_clear(sd_fetch_job *base)
{
    if (base->finish_timer >= 0)
        zloop_timer_end(base->loop, base->finish_timer);
    base->finish_timer = -1;
    sd_msg_destroy(&base->reply);
    sd_msg_destroy(&base->request_msg);
    base->request = NULL;
}
