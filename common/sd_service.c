/*  sd_service: option parsing, config loading and the run step that every
    service main shares. The exit statuses are described in sd_service.h.  */
#include "sd_service.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>

#include "sd_log.h"

//  `val` of --version, which has no short form.
#define S_OPTION_VERSION 0x100

//  Fills table with the common options, then the service's own, then the
//  zero entry that ends a getopt_long table.
static void s_build_options(const sd_service *service, struct option *table, size_t size)
{
    static const struct option common[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, S_OPTION_VERSION},
    };
    size_t count = 0;
    for (; count < sizeof common / sizeof common[0]; count++)
        table[count] = common[count];

    const struct option *extra = service->options;
    for (; extra && extra->name && count + 1 < size; extra++) {
        assert(extra->val >= SD_SERVICE_OPTION_FIRST);
        assert(!extra->flag);
        assert(service->handle_option);
        table[count++] = *extra;
    }
    assert(!extra || !extra->name);
    table[count] = (struct option){0};
}

//  Prints the error for a '?' from getopt_long: an unknown or ambiguous
//  option, or a value given to an option that takes none.
static int s_invalid_option(const char *name, char **argv)
{
    //  optopt is the character of an unknown short option. It is 0 for an
    //  unknown long option and the option's `val` for "--help=x", and in
    //  both cases getopt_long has moved optind past that argument.
    if (optopt > 0 && optopt < S_OPTION_VERSION && optopt != 'h')
        return sd_service_usage_error(name, "invalid option \"-%c\"", optopt);
    return sd_service_usage_error(name, "invalid option \"%s\"", argv[optind - 1]);
}

//  Applies one result of getopt_long. Returns SD_SERVICE_CONTINUE, or the
//  exit status when the program stops now.
static int s_apply_option(const sd_service *service, int option, char **argv,
                          const char **config_path)
{
    switch (option) {
    case 'c':
        *config_path = optarg;
        return SD_SERVICE_CONTINUE;
    case 'h':
        fputs(service->help, stdout);
        return SD_EXIT_OK;
    case S_OPTION_VERSION:
        printf("%s %s\n", service->name, STATSDASH_VERSION);
        return SD_EXIT_OK;
    case ':':
        return sd_service_usage_error(service->name, "missing value for option %s",
                                      argv[optind - 1]);
    case '?':
        return s_invalid_option(service->name, argv);
    default:
        if (service->handle_option(option, optarg, service->arg) != 0)
            return SD_EXIT_USAGE;
        return SD_SERVICE_CONTINUE;
    }
}

int sd_service_parse_options(const sd_service *service, int argc, char **argv,
                             const char **config_path)
{
    struct option table[SD_SERVICE_OPTION_MAX + 4];
    s_build_options(service, table, sizeof table / sizeof table[0]);
    *config_path = NULL;

    //  The leading ':' makes a missing value return ':' instead of '?', and
    //  opterr = 0 leaves every message to this module, so each is one line.
    opterr = 0;
    int option;
    while ((option = getopt_long(argc, argv, ":c:h", table, NULL)) != -1) {
        int status = s_apply_option(service, option, argv, config_path);
        if (status != SD_SERVICE_CONTINUE)
            return status;
    }
    if (optind < argc)
        return sd_service_usage_error(service->name, "unexpected argument \"%s\"", argv[optind]);
    if (!*config_path)
        return sd_service_usage_error(service->name, "missing option -c FILE");
    return SD_SERVICE_CONTINUE;
}

int sd_service_usage_error(const char *name, const char *format, ...)
{
    char message[1024];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(message, sizeof message, format, arguments);
    va_end(arguments);
    fprintf(stderr, "%s: %s. Run \"%s --help\" for usage.\n", name, message, name);
    return SD_EXIT_USAGE;
}

sd_config *sd_service_start(const char *name, const char *config_path)
{
    sd_log_open(name, SD_LOG_INFO, false);

    //  zsys_init installs CZMQ's SIGTERM and SIGINT handler. Doing it before
    //  the config is read makes a signal during start-up a clean stop too:
    //  zloop_start then returns at once. A failure here also fails the
    //  service's first socket, which reports it.
    if (!zsys_init())
        sd_warning("cannot initialize CZMQ (ZeroMQ context)");

    sd_config_error error;
    sd_config *config = sd_config_load(config_path, &error);
    if (!config) {
        char line[1400];
        fprintf(stderr, "%s: %s\n", name, sd_config_error_line(&error, line, sizeof line));
        return NULL;
    }
    const char *level = config->log.level ? config->log.level : "info";
    if (sd_log_configure(name, level, config->log.syslog) != 0)
        sd_log_open(name, SD_LOG_INFO, config->log.syslog);
    return config;
}

int sd_service_run(zloop_t *loop)
{
    //  zloop_start returns when CZMQ's handler has seen SIGTERM or SIGINT,
    //  or when a handler returned -1.
    zloop_start(loop);
    return zsys_interrupted ? SD_EXIT_OK : SD_EXIT_FAILURE;
}
