/*  cli_status: `statsdash status -c FILE` sends one mmi.status request to
    the broker and prints, per service, its live and idle workers, queued
    requests and requests served.  */
#include "cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <msgpack.h>
#include <stdio.h>
#include <string.h>

#include "sd_config.h"
#include "sd_log.h"
#include "sd_mdcli.h"

//  How long the mmi.status request may wait for the broker.
#define SD_STATUS_TIMEOUT_MS 3000

static const char s_usage[] =
    "Usage: statsdash status -c FILE\n"
    "\n"
    "Asks the broker named by the config's broker.endpoint for its services and\n"
    "prints one line per service: live workers, idle workers, queued requests and\n"
    "requests served. ga, youtube and report are always listed. Exits 1 when the\n"
    "broker sends no reply within 3 seconds.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   configuration file (JSON)\n"
    "  -h, --help          print this help and exit\n"
    "\n"
    "Exit status: 0 table printed, 1 error (no reply, invalid reply or invalid\n"
    "config; one line on stderr explains it), 2 usage error.\n";

//  Services listed even when the broker does not know them, in this order.
static const char *s_services[] = {"ga", "youtube", "report"};

//  Counts of one service, in the order of the table's columns.
enum { S_WORKERS, S_IDLE, S_QUEUED, S_SERVED, S_COLUMNS };
static const char *s_columns[S_COLUMNS] = {"workers", "idle", "queued", "served"};

//  Returns -1 to continue with *config_path set, or the exit status.
static int s_parse_options(int argc, char **argv, const char **config_path)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int option;
    optind = 1;
    opterr = 0;
    while ((option = getopt_long(argc, argv, ":c:h", options, NULL)) != -1) {
        if (option == 'c')
            *config_path = optarg;
        else if (option == 'h') {
            fputs(s_usage, stdout);
            return 0;
        } else {
            sd_cli_bad_option("status", option, argv);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "statsdash status: unexpected argument \"%s\"; run \"statsdash status "
                        "--help\"\n", argv[optind]);
        return 2;
    }
    if (!*config_path) {
        sd_cli_missing_config("status");
        return 2;
    }
    return -1;
}

//  Returns true when key is the msgpack string text.
static bool s_key_is(const msgpack_object *key, const char *text)
{
    size_t length = strlen(text);
    return key->type == MSGPACK_OBJECT_STR && key->via.str.size == length &&
           memcmp(key->via.str.ptr, text, length) == 0;
}

//  Reads the counts of one service's map into counts. Returns 0, or -1
//  when a count is missing or not an unsigned integer.
static int s_read_counts(const msgpack_object *map, uint64_t counts[S_COLUMNS])
{
    if (map->type != MSGPACK_OBJECT_MAP)
        return -1;
    for (int column = 0; column < S_COLUMNS; column++) {
        bool found = false;
        for (uint32_t i = 0; i < map->via.map.size && !found; i++) {
            const msgpack_object_kv *entry = &map->via.map.ptr[i];
            if (s_key_is(&entry->key, s_columns[column]) &&
                entry->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
                counts[column] = entry->val.via.u64;
                found = true;
            }
        }
        if (!found)
            return -1;
    }
    return 0;
}

static void s_print_row(const char *service, const uint64_t counts[S_COLUMNS])
{
    printf("%-16s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 "\n", service,
           counts[S_WORKERS], counts[S_IDLE], counts[S_QUEUED], counts[S_SERVED]);
}

static bool s_is_listed(const msgpack_object *name)
{
    for (size_t i = 0; i < sizeof s_services / sizeof s_services[0]; i++)
        if (s_key_is(name, s_services[i]))
            return true;
    return false;
}

//  Prints the services of an mmi.status map: ga, youtube and report first
//  (zeros when absent), then the others in the broker's order. Returns 0,
//  or -1 when the map is malformed (nothing is printed then).
static int s_print_table(const msgpack_object *status)
{
    if (status->type != MSGPACK_OBJECT_MAP)
        return -1;
    uint64_t counts[S_COLUMNS];
    for (uint32_t i = 0; i < status->via.map.size; i++)
        if (status->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR ||
            s_read_counts(&status->via.map.ptr[i].val, counts) != 0)
            return -1;

    printf("%-16s %8s %8s %8s %8s\n", "service", "workers", "idle", "queued", "served");
    for (size_t listed = 0; listed < sizeof s_services / sizeof s_services[0]; listed++) {
        memset(counts, 0, sizeof counts);
        for (uint32_t i = 0; i < status->via.map.size; i++)
            if (s_key_is(&status->via.map.ptr[i].key, s_services[listed]))
                s_read_counts(&status->via.map.ptr[i].val, counts);
        s_print_row(s_services[listed], counts);
    }
    for (uint32_t i = 0; i < status->via.map.size; i++) {
        const msgpack_object_kv *entry = &status->via.map.ptr[i];
        if (s_is_listed(&entry->key))
            continue;
        char name[80];
        snprintf(name, sizeof name, "%.*s", (int)entry->key.via.str.size, entry->key.via.str.ptr);
        s_read_counts(&entry->val, counts);
        s_print_row(name, counts);
    }
    return 0;
}

//  Sends mmi.status and prints the table. Returns 0, or 1 when no reply
//  came in time or it was malformed (then nothing goes to stdout).
static int s_print_status(sd_mdcli *client, const char *endpoint)
{
    zmsg_t *request = zmsg_new();
    zmsg_t *reply =
        request ? sd_mdcli_request(client, "mmi.status", &request, SD_STATUS_TIMEOUT_MS) : NULL;
    zmsg_destroy(&request);
    if (!reply) {
        fprintf(stderr,
                "statsdash: no reply from the broker at %s within %d ms; check that "
                "statsdash-broker is running there\n",
                endpoint, SD_STATUS_TIMEOUT_MS);
        return 1;
    }
    zframe_t *frame = zmsg_first(reply);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init(&unpacked);
    size_t offset = 0;
    int status = 1;
    if (zmsg_size(reply) == 1 &&
        msgpack_unpack_next(&unpacked, (const char *)zframe_data(frame), zframe_size(frame),
                            &offset) == MSGPACK_UNPACK_SUCCESS &&
        s_print_table(&unpacked.data) == 0)
        status = 0;
    else
        fprintf(stderr,
                "statsdash: the broker at %s sent an invalid mmi.status reply; check that it "
                "runs the same Statsdash version\n",
                endpoint);
    msgpack_unpacked_destroy(&unpacked);
    zmsg_destroy(&reply);
    return status;
}

int sd_cli_status(int argc, char **argv)
{
    const char *config_path = NULL;
    int status = s_parse_options(argc, argv, &config_path);
    if (status >= 0)
        return status;

    //  Only warnings go to stderr: stdout carries the table.
    sd_log_open("statsdash", SD_LOG_WARNING, false);
    sd_config_error error;
    sd_config *config = sd_config_load(config_path, &error);
    if (!config) {
        char line[1400];
        fprintf(stderr, "statsdash: %s\n", sd_config_error_line(&error, line, sizeof line));
        return 1;
    }
    sd_mdcli *client = sd_mdcli_new(config->broker.endpoint, &config->broker);
    if (client)
        status = s_print_status(client, config->broker.endpoint);
    else {
        fprintf(stderr, "statsdash: cannot connect to the broker at %s\n", config->broker.endpoint);
        status = 1;
    }
    sd_mdcli_destroy(&client);
    sd_config_destroy(&config);
    return status;
}
