/*  statsdash-scheduler: sends each scheduled report once its period is due
    and its data complete. Runs as a service (a tick every
    scheduler.interval_s seconds), as one tick for cron (--once), as a
    plan printer (--dry-run), or runs one operator command. Exit statuses
    are those of sd_service.h.  */
#include <stdio.h>

#include "sd_config.h"
#include "sd_lock.h"
#include "sd_log.h"
#include "sd_scheduler.h"
#include "sd_service.h"

#define S_PROGRAM "statsdash-scheduler"

static const char s_usage[] =
    "Usage: statsdash-scheduler -c FILE [--once] [--dry-run]\n"
    "       statsdash-scheduler -c FILE --resend ID --date YYYY-MM-DD\n"
    "       statsdash-scheduler -c FILE --skip ID --date YYYY-MM-DD\n"
    "       statsdash-scheduler -c FILE --backfill ID --from YYYY-MM-DD --to YYYY-MM-DD\n"
    "\n"
    "Sends each report of the config's schedule once per period, when the period is\n"
    "due and its data is complete (or when it is 2 days late), and records what was\n"
    "delivered in the scheduler database.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   configuration file (JSON)\n"
    "      --once          run one check for due reports and exit (for cron); exit\n"
    "                      status 1 when a report could not be delivered\n"
    "      --dry-run       print each report's last and next period, its run day and\n"
    "                      whether its data is complete; send and record nothing\n"
    "      --resend ID     deliver the period ending on --date again, with a new\n"
    "                      delivery id\n"
    "      --skip ID       record the period ending on --date as skipped: never sent\n"
    "      --backfill ID   send every period ending from --from to --to that is not\n"
    "                      yet sent or skipped, oldest first\n"
    "      --date DATE     last day of the period, YYYY-MM-DD\n"
    "      --from DATE     first day of the backfill range\n"
    "      --to DATE       last day of the backfill range\n"
    "  -h, --help          print this help and exit\n"
    "      --version       print the version and exit\n"
    "\n"
    "Only one scheduler may run the schedule at a time (scheduler.lock_file); the\n"
    "operator commands and --dry-run do not take the lock.\n";

typedef enum { S_SERVICE, S_ONCE, S_DRY_RUN, S_RESEND, S_SKIP, S_BACKFILL } s_mode;

typedef struct {
    const char *config_path;
    s_mode mode;
    int modes_given;
    const char *report_id;
    const char *date;
    const char *from;
    const char *to;
} s_args;

//  Exit status and loop of a run that ends through a callback.
typedef struct {
    zloop_t *loop;
    int status;
} s_outcome;

static const char *s_mode_name(s_mode mode)
{
    static const char *const names[] = {"service", "once", "dry-run", "resend", "skip", "backfill"};
    return names[mode];
}

static void s_set_mode(s_args *args, s_mode mode, const char *report_id)
{
    args->mode = mode;
    args->modes_given++;
    if (report_id)
        args->report_id = report_id;
}

enum {
    S_OPTION_ONCE = SD_SERVICE_OPTION_FIRST,
    S_OPTION_DRY_RUN,
    S_OPTION_RESEND,
    S_OPTION_SKIP,
    S_OPTION_BACKFILL,
    S_OPTION_DATE,
    S_OPTION_FROM,
    S_OPTION_TO,
};

static const struct option s_options[] = {
    {"once", no_argument, NULL, S_OPTION_ONCE},
    {"dry-run", no_argument, NULL, S_OPTION_DRY_RUN},
    {"resend", required_argument, NULL, S_OPTION_RESEND},
    {"skip", required_argument, NULL, S_OPTION_SKIP},
    {"backfill", required_argument, NULL, S_OPTION_BACKFILL},
    {"date", required_argument, NULL, S_OPTION_DATE},
    {"from", required_argument, NULL, S_OPTION_FROM},
    {"to", required_argument, NULL, S_OPTION_TO},
    {NULL, 0, NULL, 0},
};

//  Records one of the scheduler's own options in arg, an s_args. Returns 0,
//  because s_check_args checks the combinations once every option is read.
static int s_handle_option(int option, const char *value, void *arg)
{
    s_args *args = arg;
    switch (option) {
    case S_OPTION_ONCE:
        s_set_mode(args, S_ONCE, NULL);
        break;
    case S_OPTION_DRY_RUN:
        s_set_mode(args, S_DRY_RUN, NULL);
        break;
    case S_OPTION_RESEND:
        s_set_mode(args, S_RESEND, value);
        break;
    case S_OPTION_SKIP:
        s_set_mode(args, S_SKIP, value);
        break;
    case S_OPTION_BACKFILL:
        s_set_mode(args, S_BACKFILL, value);
        break;
    case S_OPTION_DATE:
        args->date = value;
        break;
    case S_OPTION_FROM:
        args->from = value;
        break;
    case S_OPTION_TO:
        args->to = value;
        break;
    default:
        return -1;
    }
    return 0;
}

//  Checks that the options of the chosen mode, and only those, are given.
//  Returns SD_SERVICE_CONTINUE, or SD_EXIT_USAGE after printing why.
static int s_check_args(const s_args *args)
{
    const char *problem = NULL;
    if (args->modes_given > 1)
        problem = "give only one of --once, --dry-run, --resend, --skip and --backfill";
    else if ((args->mode == S_RESEND || args->mode == S_SKIP) && !args->date)
        problem = "--resend and --skip need --date YYYY-MM-DD";
    else if (args->mode == S_BACKFILL && (!args->from || !args->to))
        problem = "--backfill needs --from YYYY-MM-DD and --to YYYY-MM-DD";
    else if (args->date && args->mode != S_RESEND && args->mode != S_SKIP)
        problem = "--date goes with --resend or --skip";
    else if ((args->from || args->to) && args->mode != S_BACKFILL)
        problem = "--from and --to go with --backfill";
    if (!problem)
        return SD_SERVICE_CONTINUE;
    return sd_service_usage_error(S_PROGRAM, "%s", problem);
}

static int s_stop_loop(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    (void)arg;
    return -1;
}

//  Ends the loop from a zero-delay timer: a done callback runs inside a
//  loop handler, which cannot end the loop itself.
static void s_on_done(sd_scheduler *scheduler, size_t failed, void *arg)
{
    (void)scheduler;
    s_outcome *outcome = arg;
    outcome->status = failed > 0 ? 1 : 0;
    if (zloop_timer(outcome->loop, 1, 1, s_stop_loop, NULL) < 0)
        sd_error("cannot stop the event loop");
}

//  Starts the work of the chosen mode. Returns 0 when the loop must run, -1
//  on failure.
static int s_start(const s_args *args, sd_scheduler *scheduler, s_outcome *outcome)
{
    switch (args->mode) {
    case S_SERVICE:
        return sd_scheduler_start(scheduler);
    case S_ONCE:
        return sd_scheduler_tick(scheduler, s_on_done, outcome);
    case S_DRY_RUN:
        return sd_scheduler_dry_run(scheduler, stdout, s_on_done, outcome);
    case S_RESEND:
        return sd_scheduler_resend(scheduler, args->report_id, args->date, s_on_done, outcome);
    case S_BACKFILL:
        return sd_scheduler_backfill(scheduler, args->report_id, args->from, args->to, s_on_done,
                                     outcome);
    default:
        return -1;
    }
}

//  Runs the mode on an event loop. Returns the exit status.
static int s_run(const s_args *args, const sd_config *config)
{
    zloop_t *loop = zloop_new();
    sd_scheduler *scheduler = loop ? sd_scheduler_new(config, loop) : NULL;
    s_outcome outcome = {loop, 1};
    if (scheduler && args->mode == S_SKIP)
        outcome.status = sd_scheduler_skip(scheduler, args->report_id, args->date) == 0 ? 0 : 1;
    else if (scheduler && s_start(args, scheduler, &outcome) == 0) {
        if (sd_service_run(loop) == SD_EXIT_OK) {
            sd_info("signal received, stopping");
            outcome.status = SD_EXIT_OK;
        }
    }
    sd_scheduler_destroy(&scheduler);
    zloop_destroy(&loop);
    return outcome.status;
}

int main(int argc, char **argv)
{
    s_args args = {0};
    const sd_service service = {.name = S_PROGRAM, .help = s_usage, .options = s_options,
                                .handle_option = s_handle_option, .arg = &args};
    int status = sd_service_parse_options(&service, argc, argv, &args.config_path);
    if (status == SD_SERVICE_CONTINUE)
        status = s_check_args(&args);
    if (status != SD_SERVICE_CONTINUE)
        return status;
    sd_config *config = sd_service_start(service.name, args.config_path);
    if (!config)
        return SD_EXIT_USAGE;

    //  Only the runs of the schedule itself need to be alone.
    sd_lock *lock = NULL;
    status = SD_EXIT_FAILURE;
    if (args.mode == S_SERVICE || args.mode == S_ONCE) {
        char error[700];
        lock = sd_lock_acquire(config->scheduler.lock_file, error, sizeof error);
        if (!lock)
            fprintf(stderr, S_PROGRAM ": %s\n", error);
    }
    if (lock || (args.mode != S_SERVICE && args.mode != S_ONCE)) {
        sd_info("started mode=%s database=%s", s_mode_name(args.mode), config->scheduler.database);
        status = s_run(&args, config);
    }
    sd_lock_release(&lock);
    sd_config_destroy(&config);
    sd_log_close();
    return status;
}
