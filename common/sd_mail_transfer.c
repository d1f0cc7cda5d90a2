/*  sd_mail_transfer: one SMTP transfer driven by a zloop.  */
#include "sd_mail_transfer.h"

#include <stdio.h>
#include <string.h>

//  Milliseconds between two steps of a running transfer.
//  NOTE: a timer, not socket pollers, drives libcurl here: simpler, at the
//  cost of up to this much extra latency per SMTP round trip.
#define S_STEP_MS 5

struct sd_mail_transfer {
    zloop_t *loop;
    CURLM *multi;
    sd_mail_upload *upload;
    char *url;                      //  for error messages
    int timer;                      //  zloop timer id, -1 once ended
    sd_mail_done_fn *done;
    void *arg;
};

//  Classes a finished transfer by libcurl's result and the last SMTP reply.
static sd_mail_result s_classify(CURLcode rc, long code)
{
    if (rc == CURLE_OK)
        return SD_MAIL_ACCEPTED;
    if (code >= 500)
        return SD_MAIL_REJECTED;
    return SD_MAIL_TEMPORARY;
}

static void s_stop_timer(sd_mail_transfer *self)
{
    if (self->timer >= 0)
        zloop_timer_end(self->loop, self->timer);
    self->timer = -1;
}

static int s_on_step(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sd_mail_transfer *self = arg;
    int running = 0;
    CURLMcode mrc = curl_multi_perform(self->multi, &running);
    int queued = 0;
    CURLMsg *msg = mrc == CURLM_OK ? curl_multi_info_read(self->multi, &queued) : NULL;
    if (mrc == CURLM_OK && (!msg || msg->msg != CURLMSG_DONE))
        return 0;

    CURLcode rc = mrc == CURLM_OK ? msg->data.result : CURLE_FAILED_INIT;
    long code = 0;
    curl_easy_getinfo(sd_mail_upload_handle(self->upload), CURLINFO_RESPONSE_CODE, &code);
    char error[512] = "";
    if (rc != CURLE_OK)
        sd_mail_upload_describe(self->upload, rc, self->url, error, sizeof error);
    s_stop_timer(self);
    //  The callback may destroy the transfer: nothing touches self after it.
    self->done(s_classify(rc, code), error, self->arg);
    return 0;
}

sd_mail_transfer *sd_mail_transfer_start(zloop_t *loop, const sd_mail_server *server,
                                         const sd_mail_message *message, sd_mail_done_fn *done,
                                         void *arg, char *error, size_t size)
{
    sd_mail_transfer *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(error, size, "out of memory while starting the mail transfer");
        return NULL;
    }
    self->loop = loop;
    self->timer = -1;
    self->done = done;
    self->arg = arg;
    self->upload = sd_mail_upload_new(server, message, error, size);
    if (!self->upload) {
        sd_mail_transfer_destroy(&self);
        return NULL;
    }
    self->url = strdup(server->url);
    self->multi = curl_multi_init();
    if (!self->url || !self->multi ||
        curl_multi_add_handle(self->multi, sd_mail_upload_handle(self->upload)) != CURLM_OK ||
        (self->timer = zloop_timer(loop, S_STEP_MS, 0, s_on_step, self)) < 0) {
        snprintf(error, size, "the mail transfer could not be started");
        sd_mail_transfer_destroy(&self);
    }
    return self;
}

void sd_mail_transfer_destroy(sd_mail_transfer **transfer_p)
{
    sd_mail_transfer *self = *transfer_p;
    if (!self)
        return;
    s_stop_timer(self);
    if (self->multi && self->upload)
        curl_multi_remove_handle(self->multi, sd_mail_upload_handle(self->upload));
    if (self->multi)
        curl_multi_cleanup(self->multi);
    sd_mail_upload_destroy(&self->upload);
    free(self->url);
    free(self);
    *transfer_p = NULL;
}
