/*  sd_run: chains of jobs, one report's periods in order.  */
#include "sd_run.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    sd_run *owner;
    sd_job_spec *jobs;
    size_t count;
    size_t next; //  index of the job to start next
} s_chain;

struct sd_run {
    sd_job_env env;
    s_chain *chains;
    size_t chain_count;
    size_t running; //  chains not yet ended
    bool started;
    sd_run_summary summary;
    sd_run_done_fn *done;
    void *done_arg;
};

sd_run *sd_run_new(const sd_job_env *env)
{
    sd_run *self = calloc(1, sizeof *self);
    if (self)
        self->env = *env;
    return self;
}

void sd_run_destroy(sd_run **self_p)
{
    if (!self_p || !*self_p)
        return;
    sd_run *self = *self_p;
    for (size_t i = 0; i < self->chain_count; i++)
        free(self->chains[i].jobs);
    free(self->chains);
    sd_strings_clear(&self->summary.errors);
    free(self);
    *self_p = NULL;
}

int sd_run_add_chain(sd_run *self, const sd_job_spec *jobs, size_t count)
{
    if (count == 0)
        return 0;
    s_chain *chains = realloc(self->chains, (self->chain_count + 1) * sizeof *chains);
    if (!chains)
        return -1;
    self->chains = chains;
    s_chain *chain = &chains[self->chain_count];
    *chain = (s_chain){self, malloc(count * sizeof *jobs), count, 0};
    if (!chain->jobs)
        return -1;
    memcpy(chain->jobs, jobs, count * sizeof *jobs);
    self->chain_count++;
    return 0;
}

static void s_chain_next(s_chain *chain);

//  Ends a chain; the last one to end reports the summary.
static void s_chain_end(s_chain *chain)
{
    sd_run *self = chain->owner;
    self->summary.not_started += chain->count - chain->next;
    if (--self->running == 0 && self->started)
        self->done(&self->summary, self->done_arg);
}

static void s_on_job_done(sd_job_result result, void *arg)
{
    s_chain *chain = arg;
    sd_run_summary *summary = &chain->owner->summary;
    if (result == SD_JOB_SENT) {
        summary->sent++;
        s_chain_next(chain);
        return;
    }
    if (result == SD_JOB_WAITING)
        summary->waiting++;
    else
        summary->failed++;
    s_chain_end(chain);
}

static void s_chain_next(s_chain *chain)
{
    sd_run *self = chain->owner;
    if (chain->next == chain->count) {
        s_chain_end(chain);
        return;
    }
    const sd_job_spec *spec = &chain->jobs[chain->next++];
    if (sd_job_start(&self->env, spec, &self->summary.errors, s_on_job_done, chain) != 0) {
        sd_strings_push(&self->summary.errors, "a job could not start: out of memory");
        self->summary.failed++;
        s_chain_end(chain);
    }
}

int sd_run_start(sd_run *self, sd_run_done_fn *done, void *arg)
{
    if (self->started || !done)
        return -1;
    self->done = done;
    self->done_arg = arg;

    //  Chains may end while they start (a failed record, no data check):
    //  count them all as running first, and report only after the loop.
    self->running = self->chain_count + 1;
    self->started = false;
    for (size_t i = 0; i < self->chain_count; i++)
        s_chain_next(&self->chains[i]);
    self->started = true;
    if (--self->running == 0)
        done(&self->summary, arg);
    return 0;
}
