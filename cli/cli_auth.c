/*  cli_auth: `statsdash auth youtube` authorizes Statsdash to read a YouTube
    channel's analytics and stores the refresh token.

    The flow is OAuth 2.0 for installed applications (RFC 8252) with PKCE
    S256 (RFC 7636). The command listens on 127.0.0.1 on a free port and
    prints the authorization URL for the user to open in a browser. It then
    receives the code on the loopback redirect, checks the state, exchanges
    the code at youtube.token_uri and writes the refresh token with mode
    0600. Google retired the out-of-band (copy and paste) flow, so there is
    none here.
*/
#include "cli.h"

#include <getopt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli_loopback.h"
#include "sd_config.h"
#include "sd_http.h"
#include "sd_log.h"
#include "sd_oauth_user.h"

#define CLI_AUTH_TIMEOUT_DEFAULT_S 300
#define CLI_AUTH_EXCHANGE_POLL_MS 50

static const char s_usage[] =
    "Usage: statsdash auth youtube -c FILE [--channel NAME [--id UC...] | --owner]\n"
    "                              [--token-file FILE] [--timeout SECONDS]\n"
    "\n"
    "Authorizes Statsdash to read a YouTube channel's analytics. Prints a URL to\n"
    "open in a browser on this machine; after the user allows access, the browser\n"
    "is sent back to a listener on 127.0.0.1 and the refresh token is written, with\n"
    "mode 0600, to the channel id's refresh_token_file in the config. Reads\n"
    "youtube.client_secret_file (an OAuth client of type \"Desktop app\"),\n"
    "youtube.auth_uri and youtube.token_uri.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE     configuration file (JSON)\n"
    "  --channel NAME        the channel (a key of youtube.channels) to authorize;\n"
    "                        may be left out when one channel id has a token file\n"
    "  --id UC...            which id of the channel, when it has several token files\n"
    "  --owner               authorize a user who manages youtube.content_owner and\n"
    "                        write youtube.owner_refresh_token_file (the default\n"
    "                        when content_owner is set and --channel is not given)\n"
    "  --token-file FILE     write the token to FILE instead of the config's file\n"
    "  --timeout SECONDS     how long to wait for the browser (default 300)\n"
    "  -h, --help            print this help and exit\n"
    "\n"
    "Exit status: 0 token written, 1 error (one line on stderr explains it), 2 usage\n"
    "error.\n";

typedef struct {
    const char *config_path;
    const char *channel;
    const char *id;
    const char *token_file;
    bool owner;
    int timeout_s;
} s_options;

//  State of the code exchange, run on a zloop.
typedef struct {
    bool done;
    int status;
    const char *token_file;
    const char *channel;
} s_exchange_state;

//  Returns -1 to go on, or the exit status when the command should stop.
static int s_parse_options(int argc, char **argv, s_options *options)
{
    static const struct option long_options[] = {
        {"config", required_argument, NULL, 'c'},  {"channel", required_argument, NULL, 'n'},
        {"id", required_argument, NULL, 'i'},      {"token-file", required_argument, NULL, 'f'},
        {"timeout", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {"owner", no_argument, NULL, 'o'},         {NULL, 0, NULL, 0},
    };
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(s_usage, stdout);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "youtube") != 0) {
        fprintf(stderr, "statsdash auth: expected the subcommand youtube; run \"statsdash auth "
                        "--help\"\n");
        return 2;
    }
    int option;
    optind = 2;
    opterr = 0;
    while ((option = getopt_long(argc, argv, ":c:h", long_options, NULL)) != -1) {
        char *end = NULL;
        switch (option) {
        case 'c': options->config_path = optarg; break;
        case 'n': options->channel = optarg; break;
        case 'i': options->id = optarg; break;
        case 'f': options->token_file = optarg; break;
        case 'o': options->owner = true; break;
        case 't':
            options->timeout_s = (int)strtol(optarg, &end, 10);
            if (*end || options->timeout_s < 1 || options->timeout_s > 86400) {
                fprintf(stderr, "statsdash auth: invalid --timeout \"%s\": expected 1 to 86400 "
                        "seconds\n", optarg);
                return 2;
            }
            break;
        case 'h': fputs(s_usage, stdout); return 0;
        default: sd_cli_bad_option("auth", option, argv); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "statsdash auth: unexpected argument \"%s\"; run \"statsdash auth "
                        "--help\"\n", argv[optind]);
        return 2;
    }
    if (!options->config_path) {
        sd_cli_missing_config("auth");
        return 2;
    }
    if (options->owner && options->channel) {
        fprintf(stderr, "statsdash auth: --owner and --channel exclude each other; give one\n");
        return 2;
    }
    return -1;
}

//  Picks the token file of one id of channel: the id named by --id, or the
//  only id with a token file. Returns it, or NULL after printing why.
static const char *s_channel_token_file(const sd_config_channel *channel, const char *id)
{
    const char *found = NULL;
    size_t count = 0;
    for (size_t i = 0; i < channel->id_count; i++) {
        const sd_config_channel_id *entry = &channel->ids[i];
        if (id && strcmp(entry->id, id) == 0 && !entry->refresh_token_file) {
            fprintf(stderr, "statsdash auth: channel id %s of \"%s\" has no refresh_token_file "
                    "in the config; add one or pass --token-file FILE\n", id, channel->name);
            return NULL;
        }
        if (entry->refresh_token_file && (!id || strcmp(entry->id, id) == 0)) {
            found = entry->refresh_token_file;
            count++;
        }
    }
    if (count == 1)
        return found;
    if (count == 0 && id)
        fprintf(stderr, "statsdash auth: channel \"%s\" has no id %s in the config\n",
                channel->name, id);
    else if (count == 0)
        fprintf(stderr, "statsdash auth: no id of channel \"%s\" has a refresh_token_file; add "
                "one in the config or pass --token-file FILE\n", channel->name);
    else
        fprintf(stderr, "statsdash auth: channel \"%s\" has several ids with a "
                "refresh_token_file; choose one with --id UC...\n", channel->name);
    return NULL;
}

//  Finds where the token goes and the channel it is for. Returns 0, or -1
//  after printing why.
static int s_choose_target(const sd_config *config, const s_options *options,
                           const char **file, const char **channel_name)
{
    *channel_name = options->channel ? options->channel : "";
    if (options->token_file) {
        *file = options->token_file;
        return 0;
    }
    //  In content-owner mode the worker uses the owner's token only.
    if (options->owner || (!options->channel && config->youtube.content_owner)) {
        *file = config->youtube.owner_refresh_token_file;
        if (!*file)
            fprintf(stderr, "statsdash auth: --owner needs youtube.content_owner and "
                    "youtube.owner_refresh_token_file in %s, or pass --token-file FILE\n",
                    config->path);
        return *file ? 0 : -1;
    }
    if (options->channel) {
        const sd_config_channel *channel = sd_config_find_channel(config, options->channel);
        if (!channel) {
            fprintf(stderr, "statsdash auth: no channel \"%s\" in youtube.channels of %s\n",
                    options->channel, config->path);
            return -1;
        }
        *file = s_channel_token_file(channel, options->id);
        return *file ? 0 : -1;
    }
    size_t count = 0;
    for (size_t c = 0; c < config->youtube.channel_count; c++) {
        const sd_config_channel *channel = &config->youtube.channels[c];
        for (size_t i = 0; i < channel->id_count; i++) {
            if (channel->ids[i].refresh_token_file) {
                *file = channel->ids[i].refresh_token_file;
                *channel_name = channel->name;
                count++;
            }
        }
    }
    if (count == 1)
        return 0;
    fprintf(stderr, "statsdash auth: %s; name the channel with --channel NAME or the file with "
            "--token-file FILE\n", count == 0 ? "no channel id in the config has a "
                                                "refresh_token_file"
                                              : "several channel ids have a refresh_token_file");
    return -1;
}

//  Writes size random bytes as base64url without padding into text (at
//  least 4 * size / 3 + 4 bytes). Returns 0 or -1.
static int s_base64url(const unsigned char *data, size_t size, char *text)
{
    int length = EVP_EncodeBlock((unsigned char *)text, data, (int)size);
    if (length < 0)
        return -1;
    while (length > 0 && text[length - 1] == '=')
        length--;
    text[length] = '\0';
    for (int i = 0; i < length; i++) {
        if (text[i] == '+')
            text[i] = '-';
        else if (text[i] == '/')
            text[i] = '_';
    }
    return 0;
}

//  Creates the PKCE verifier (32 random bytes, 43 characters), its S256
//  challenge and a random state. Returns 0 or -1.
static int s_make_pkce(char verifier[64], char challenge[64], char state[64])
{
    unsigned char random[32];
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;
    if (RAND_bytes(random, sizeof random) != 1 || s_base64url(random, sizeof random, verifier)
        || EVP_Digest(verifier, strlen(verifier), digest, &digest_size, EVP_sha256(), NULL) != 1
        || s_base64url(digest, digest_size, challenge) != 0
        || RAND_bytes(random, 16) != 1 || s_base64url(random, 16, state) != 0)
        return -1;
    OPENSSL_cleanse(random, sizeof random);
    return 0;
}

//  Builds the authorization URL. Returns a new string, or NULL.
static char *s_authorization_url(const char *auth_uri, const char *client_id,
                                 const char *redirect_uri, const char *challenge,
                                 const char *state)
{
    const char *scope = SD_OAUTH_SCOPE_YOUTUBE_ANALYTICS " " SD_OAUTH_SCOPE_YOUTUBE_READONLY;
    char *client = curl_easy_escape(NULL, client_id, 0);
    char *redirect = curl_easy_escape(NULL, redirect_uri, 0);
    char *scopes = curl_easy_escape(NULL, scope, 0);
    char *url = NULL;
    if (client && redirect && scopes) {
        size_t size = strlen(auth_uri) + strlen(client) + strlen(redirect) + strlen(scopes)
                    + strlen(challenge) + strlen(state) + 256;
        url = malloc(size);
        if (url)
            snprintf(url, size, "%s%cclient_id=%s&redirect_uri=%s&response_type=code&scope=%s"
                     "&code_challenge=%s&code_challenge_method=S256&state=%s"
                     "&access_type=offline&prompt=consent",
                     auth_uri, strchr(auth_uri, '?') ? '&' : '?', client, redirect, scopes,
                     challenge, state);
    }
    curl_free(client);
    curl_free(redirect);
    curl_free(scopes);
    return url;
}

static void s_on_exchanged(const char *refresh_token, const char *error, void *arg)
{
    s_exchange_state *state = arg;
    char text[1024];
    state->done = true;
    state->status = 1;
    if (!refresh_token) {
        fprintf(stderr, "statsdash auth: %s\n", error);
    } else if (sd_oauth_refresh_token_write(state->token_file, refresh_token, text,
                                            sizeof text) != 0) {
        fprintf(stderr, "statsdash auth: %s\n", text);
    } else {
        printf("Refresh token stored in %s%s%s%s\n", state->token_file,
               *state->channel ? " (channel \"" : "", state->channel,
               *state->channel ? "\")" : "");
        state->status = 0;
    }
}

//  Ends zloop_start once the exchange has called back.
static int s_on_exchange_poll(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    return ((s_exchange_state *)arg)->done ? -1 : 0;
}

//  Exchanges the code and stores the refresh token. Returns the exit status.
static int s_exchange(const sd_config *config, const sd_oauth_client *client, const char *code,
                      const char *verifier, const char *redirect_uri,
                      s_exchange_state *state)
{
    zloop_t *loop = zloop_new();
    sd_http *http = loop ? sd_http_new(loop, NULL) : NULL;
    const char *token_uri = config->youtube.token_uri;
    if (!http || zloop_timer(loop, CLI_AUTH_EXCHANGE_POLL_MS, 0, s_on_exchange_poll, state) < 0
        || sd_oauth_exchange_code(http, client, token_uri, code, verifier, redirect_uri,
                                  s_on_exchanged, state) != 0) {
        fprintf(stderr, "statsdash auth: cannot start the token request to %s\n", token_uri);
    } else {
        zloop_start(loop);
        if (!state->done)
            fprintf(stderr, "statsdash auth: interrupted before the token request to %s "
                    "ended\n", token_uri);
    }
    sd_http_destroy(&http);
    zloop_destroy(&loop);
    return state->done ? state->status : 1;
}

//  Runs the browser step and the exchange. Returns the exit status.
static int s_authorize(const sd_config *config, const sd_oauth_client *client,
                       const s_options *options, s_exchange_state *state)
{
    char verifier[64], challenge[64], nonce[64], error[1024], redirect_uri[64];
    char *code = NULL;
    int status = 1;
    cli_loopback *loopback = cli_loopback_open(error, sizeof error);
    if (!loopback || s_make_pkce(verifier, challenge, nonce) != 0) {
        fprintf(stderr, "statsdash auth: %s\n", loopback ? "cannot make the PKCE verifier" : error);
        cli_loopback_close(&loopback);
        return 1;
    }
    snprintf(redirect_uri, sizeof redirect_uri, "http://127.0.0.1:%u/",
             cli_loopback_port(loopback));
    char *url = s_authorization_url(config->youtube.auth_uri, sd_oauth_client_id(client),
                                    redirect_uri, challenge, nonce);
    if (url) {
        printf("Open this URL in a browser on this machine and allow access:\n\n%s\n\n"
               "Waiting up to %d s for the browser to return to %s\n", url, options->timeout_s,
               redirect_uri);
        fflush(stdout);
        if (cli_loopback_wait(loopback, nonce, options->timeout_s * 1000, &code, error,
                              sizeof error) == 0)
            status = s_exchange(config, client, code, verifier, redirect_uri, state);
        else
            fprintf(stderr, "statsdash auth: %s\n", error);
    }
    sd_oauth_secret_free(code);
    OPENSSL_cleanse(verifier, sizeof verifier);
    free(url);
    cli_loopback_close(&loopback);
    return status;
}

int sd_cli_auth(int argc, char **argv)
{
    s_options options = {.timeout_s = CLI_AUTH_TIMEOUT_DEFAULT_S};
    int status = s_parse_options(argc, argv, &options);
    if (status >= 0)
        return status;

    sd_log_open("statsdash", SD_LOG_WARNING, false);
    sd_config_error config_error;
    sd_config *config = sd_config_load(options.config_path, &config_error);
    if (!config) {
        char line[1400];
        fprintf(stderr, "statsdash auth: %s\n", sd_config_error_line(&config_error, line,
                                                                     sizeof line));
        return 1;
    }
    char error[1024];
    sd_oauth_client *client = NULL;
    s_exchange_state state = {0};
    status = 1;
    if (!config->youtube.client_secret_file)
        fprintf(stderr, "statsdash auth: %s: youtube.client_secret_file is not set; name the "
                "OAuth client JSON file there\n", config->path);
    else if (!(client = sd_oauth_client_load(config->youtube.client_secret_file, error,
                                             sizeof error)))
        fprintf(stderr, "statsdash auth: %s\n", error);
    else if (s_choose_target(config, &options, &state.token_file, &state.channel) == 0)
        status = s_authorize(config, client, &options, &state);
    sd_oauth_client_destroy(&client);
    sd_config_destroy(&config);
    return status;
}
