/*  cli_request: the checks that `statsdash request` makes against the
    config and the broker before it sends the report request
    (cli_request_checks.c). Each prints its own line on stderr.  */
#ifndef SD_CLI_REQUEST_H
#define SD_CLI_REQUEST_H

#include "sd_config.h"
#include "sd_mdcli.h"
#include "sd_period.h"

//  Checks every name of sites (comma-separated, "all" skipped) against the
//  config: GA sites for the ga-* reports, YouTube channels for youtube.
//  Returns 0, or -1 after one line naming the first unknown name and
//  listing the known ones.
int sd_cli_request_check_sites(const char *report, const char *sites, const sd_config *config,
                               const char *config_path);

//  Prints a warning line when the period of a report for frequency and
//  date ends today or later, today being sd_now_ms() (STATSDASH_NOW when
//  set) in scheduler.timezone, the zone the scheduler waits in.
void sd_cli_request_warn_open_period(sd_frequency frequency, sd_date date,
                                     const sd_config *config);

//  Sends the broker mmi.service requests to learn whether a worker of
//  service "report" is registered, for up to timeout_ms. Returns 0 when one is, or when the
//  broker does not support mmi.service. Returns -1 after one line naming
//  the endpoint and what to start when the broker does not reply or no
//  reporter registers within timeout_ms.
int sd_cli_request_probe(sd_mdcli *client, const sd_config *config, const char *config_path,
                         int timeout_ms);

#endif
