/*  sd_config: the one JSON configuration file every Statsdash process reads.

    The whole file is validated when it is loaded, whatever process loads
    it: an unknown key, a wrong type or a bad value is an error naming the
    file, the key path ("ga.sites.retro[0].property") and what was expected.
    Each process then reads its own section. Missing sections and keys take
    the defaults documented beside each field (and in docs/configuration.md).
    Secret files are only named here (key_file, password_file, ...); they are
    read, and their modes checked, by the code that uses them.
*/
#ifndef SD_CONFIG_H
#define SD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char path[512];                 //  the file that failed
    char key[256];                  //  key path, "" for the whole file
    char text[512];                 //  one line: what is wrong and what to do
} sd_config_error;

typedef struct {
    char **items;
    size_t count;
} sd_config_strings;

typedef struct {
    char *public_key_file;          //  this process's key pair, written by `statsdash keygen`
    char *secret_key_file;
    char *server_public_key_file;   //  the broker's public key (clients and workers)
    sd_config_strings allowed_keys; //  broker only: public key files of accepted peers
} sd_config_curve;

typedef struct {
    char *endpoint;                 //  MDP ROUTER that clients and workers connect to, default "tcp://127.0.0.1:5555"
    char *bind;                     //  what the broker binds, default: endpoint
    char *bus_publish;              //  XSUB side publishers connect to, default "tcp://127.0.0.1:5556"
    char *bus_publish_bind;         //  default: bus_publish
    char *bus_subscribe;            //  XPUB side subscribers connect to, default "tcp://127.0.0.1:5557"
    char *bus_subscribe_bind;       //  default: bus_subscribe
    int heartbeat_ms;               //  default 2500
    int liveness;                   //  heartbeats missed before a peer is dead, default 3
    int queue_limit;                //  requests queued per service, default 1000
    int64_t max_message_bytes;      //  ZMQ_MAXMSGSIZE on every socket, default 67108864
    bool curve_enabled;             //  true when the "curve" object is present
    sd_config_curve curve;
} sd_config_broker;

typedef struct {
    int shards;                     //  default 1
} sd_config_aggregator;

typedef struct {
    char *path;                     //  SQLite file, default "" (no cache)
    int64_t max_bytes;              //  default 268435456
} sd_config_cache;

//  Default and maximum of ga.concurrent_jobs and youtube.concurrent_jobs:
//  the requests (fetch jobs and availability checks) that one fetch worker
//  process runs at once, through as many MDP worker connections.
#define SD_CONFIG_CONCURRENT_JOBS_DEFAULT 32
#define SD_CONFIG_CONCURRENT_JOBS_MAX 64

typedef struct {
    char *property;                 //  digits only
    bool wait_for_data;             //  default true
} sd_config_property;

typedef struct {
    char *name;
    sd_config_property *properties;
    size_t property_count;
} sd_config_site;

typedef struct {
    char *source;                   //  session source, e.g. "m.facebook.com"
    char *network;                  //  e.g. "Facebook"
} sd_config_social_source;

typedef struct {
    char *api_base;                 //  default "https://analyticsdata.googleapis.com"
    char *token_uri;                //  default: the key file's token_uri
    char *key_file;                 //  service-account JSON key
    sd_config_cache cache;
    sd_config_site *sites;          //  in file order
    size_t site_count;
    //  Article paths to leave out: POSIX extended regular expressions matched
    //  against pagePath with its query string.
    sd_config_strings article_path_blacklist;   //  default: the home page, /page/N, query-only paths, /forum, /login.php, /cookies.php
    sd_config_strings source_blacklist;         //  default: "google", "(direct)"
    sd_config_strings countries;                //  default: a list of large markets
    sd_config_social_source *social_sources;    //  default: the usual networks' hosts
    size_t social_source_count;
    char *all_sites_name;           //  default "Network"
    int max_in_flight;              //  requests in flight per property, default 10
    int page_size;                  //  rows per request, default 10000, at most 250000
    int concurrent_jobs;            //  MDP requests run at once, default 4, at most 64
} sd_config_ga;

typedef struct {
    char *id;                       //  "UC..."
    char *refresh_token_file;       //  needed for channel==MINE only, else NULL
} sd_config_channel_id;

typedef struct {
    char *name;
    sd_config_channel_id *ids;
    size_t id_count;
} sd_config_channel;

typedef struct {
    char *analytics_api_base;       //  default "https://youtubeanalytics.googleapis.com"
    char *data_api_base;            //  default "https://www.googleapis.com/youtube/v3"
    char *token_uri;                //  default "https://oauth2.googleapis.com/token"
    char *auth_uri;                 //  default "https://accounts.google.com/o/oauth2/v2/auth"
    char *client_secret_file;
    char *content_owner;            //  NULL: channel==MINE mode
    char *owner_refresh_token_file; //  token of a user managing content_owner, else NULL
    sd_config_cache cache;
    sd_config_channel *channels;
    size_t channel_count;
    int max_in_flight;              //  requests in flight per channel id, default 10
    int page_size;                  //  rows per reports.query page (maxResults), default 10000
    int concurrent_jobs;            //  MDP requests run at once, default 4, at most 64
} sd_config_youtube;

typedef struct {
    char *id;                       //  reporter id in table topics; default "<host>-<pid>"
    char *templates_dir;            //  default "" (the built-in templates)
    int deadline_ms;                //  default report deadline, 120000
    int render_margin_ms;           //  rendered this long before the deadline, default 5000
    int table_margin_ms;            //  aggregator deadline before the reporter's, default 3000
    char *state_file;               //  SQLite record of sent delivery ids, default ""
} sd_config_reporter;

typedef struct {
    char *url;                      //  "smtp://host:25", "smtps://host:465"
    bool starttls;                  //  default false
    char *user;
    char *password_file;
    char *from;
    char *reply_to;
    sd_config_strings error_recipients;
} sd_config_smtp;

typedef struct {
    char *id;
    char *report;                   //  report type
    sd_config_strings sites;        //  {"all"} (the default) or configured site / channel names
    sd_config_strings recipients;   //  default: none
    char *subject;                  //  default NULL: the reporter's subject
    char *frequency;                //  DAILY, WOW_DAILY, WEEKLY, MONTHLY
    int weekday;                    //  WEEKLY: 0 = Monday .. 6 = Sunday, default 0
    int day;                        //  MONTHLY: 1..28, default 1
    char *yearly_alignment;         //  "calendar" (default) or "weekday"
} sd_config_report;

typedef struct {
    char *database;                 //  SQLite file of last runs, default "statsdash-scheduler.db"
    char *lock_file;                //  default: database + ".lock"
    int interval_s;                 //  seconds between ticks, default 3600
    char *timezone;                 //  default "UTC"
} sd_config_scheduler;

typedef struct {
    char *level;                    //  "debug", "info" (default), "warning", "error"
    bool syslog;                    //  default false
} sd_config_log;

typedef struct {
    char *path;                     //  the file it was loaded from
    sd_config_broker broker;
    sd_config_aggregator aggregator;
    sd_config_ga ga;
    sd_config_youtube youtube;
    sd_config_reporter reporter;
    sd_config_smtp smtp;
    sd_config_scheduler scheduler;
    sd_config_report *schedule;
    size_t schedule_count;
    sd_config_log log;
} sd_config;

//  Loads and validates the file. Returns a new config, or NULL with err
//  filled (err->text is one line naming the file, key and expected value).
sd_config *sd_config_load(const char *path, sd_config_error *err);

//  Validates the whole file and calls report (if not NULL) once per error,
//  section by section. Returns the number of errors (0: the file is valid), or
//  -1 when the file cannot be read or is not a JSON object; that error is
//  reported too. err is only valid during the call.
int sd_config_check(const char *path, void (*report)(const sd_config_error *err, void *arg),
                    void *arg);

//  Returns a config holding only the defaults, or NULL when out of memory.
sd_config *sd_config_new_default(void);

void sd_config_destroy(sd_config **config);

//  Formats err as one line "FILE: KEY: TEXT" into buffer. Returns buffer.
const char *sd_config_error_line(const sd_config_error *err, char *buffer, size_t size);

//  Returns the site with the given name, or NULL.
const sd_config_site *sd_config_find_site(const sd_config *config, const char *name);

//  Returns the channel with the given name, or NULL.
const sd_config_channel *sd_config_find_channel(const sd_config *config, const char *name);

#endif
