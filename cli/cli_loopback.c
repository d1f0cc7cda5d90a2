/*  cli_loopback: accepts the browser's redirect on 127.0.0.1.  */
#include "cli_loopback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define CLI_REQUEST_MAX 8192
#define CLI_READ_TIMEOUT_S 5

struct cli_loopback {
    int fd;
    unsigned port;
};

//  What one redirect request carried.
typedef struct {
    char *code;
    char *state;
    char *error;
    char *error_description;
} s_redirect;

cli_loopback *cli_loopback_open(char *error, size_t error_size)
{
    cli_loopback *loopback = calloc(1, sizeof *loopback);
    if (!loopback) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    loopback->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (loopback->fd < 0 || bind(loopback->fd, (struct sockaddr *)&address, sizeof address) != 0
        || listen(loopback->fd, 8) != 0
        || getsockname(loopback->fd, (struct sockaddr *)&address, &length) != 0) {
        snprintf(error, error_size, "cannot listen on 127.0.0.1 for the OAuth redirect: %s",
                 strerror(errno));
        cli_loopback_close(&loopback);
        return NULL;
    }
    loopback->port = ntohs(address.sin_port);
    return loopback;
}

unsigned cli_loopback_port(const cli_loopback *loopback)
{
    return loopback->port;
}

void cli_loopback_close(cli_loopback **loopback_p)
{
    cli_loopback *loopback = *loopback_p;
    if (!loopback)
        return;
    if (loopback->fd >= 0)
        close(loopback->fd);
    free(loopback);
    *loopback_p = NULL;
}

static int s_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

//  Decodes length bytes of a query value ('+' is a space, %XX a byte).
//  Returns a new string, or NULL when an escape is malformed or decodes to
//  a NUL byte.
static char *s_decode(const char *text, size_t length)
{
    char *out = malloc(length + 1);
    size_t used = 0;
    for (size_t i = 0; out && i < length; i++) {
        if (text[i] == '%') {
            int high = i + 2 < length ? s_hex_value(text[i + 1]) : -1;
            int low = high >= 0 ? s_hex_value(text[i + 2]) : -1;
            if (high < 0 || low < 0 || high * 16 + low == 0) {
                free(out);
                return NULL;
            }
            out[used++] = (char)(high * 16 + low);
            i += 2;
        } else {
            out[used++] = text[i] == '+' ? ' ' : text[i];
        }
    }
    if (out)
        out[used] = '\0';
    return out;
}

static void s_redirect_clear(s_redirect *redirect)
{
    free(redirect->code);
    free(redirect->state);
    free(redirect->error);
    free(redirect->error_description);
    memset(redirect, 0, sizeof *redirect);
}

//  Fills redirect from the query of a request target ("/path?a=b&c=d").
static void s_parse_query(const char *target, size_t length, s_redirect *redirect)
{
    const char *query = memchr(target, '?', length);
    if (!query)
        return;
    const char *end = target + length;
    for (const char *pair = query + 1; pair < end;) {
        size_t pair_length = strcspn(pair, "&");
        if (pair + pair_length > end)
            pair_length = (size_t)(end - pair);
        const char *equals = memchr(pair, '=', pair_length);
        size_t name_length = equals ? (size_t)(equals - pair) : 0;
        char **slot = NULL;
        if (name_length == 4 && strncmp(pair, "code", 4) == 0)
            slot = &redirect->code;
        else if (name_length == 5 && strncmp(pair, "state", 5) == 0)
            slot = &redirect->state;
        else if (name_length == 5 && strncmp(pair, "error", 5) == 0)
            slot = &redirect->error;
        else if (name_length == 17 && strncmp(pair, "error_description", 17) == 0)
            slot = &redirect->error_description;
        if (slot && !*slot)
            *slot = s_decode(equals + 1, pair_length - name_length - 1);
        pair += pair_length + 1;
    }
}

//  Reads the request head of a connection (up to the blank line). Returns
//  the request target of a GET, as a new string, or NULL.
static char *s_read_target(int fd)
{
    char buffer[CLI_REQUEST_MAX + 1];
    size_t used = 0;
    struct timeval timeout = {CLI_READ_TIMEOUT_S, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    while (used < CLI_REQUEST_MAX) {
        ssize_t got = recv(fd, buffer + used, CLI_REQUEST_MAX - used, 0);
        if (got <= 0)
            break;
        used += (size_t)got;
        buffer[used] = '\0';
        if (strstr(buffer, "\r\n\r\n") || strstr(buffer, "\n\n"))
            break;
    }
    buffer[used] = '\0';
    if (strncmp(buffer, "GET ", 4) != 0)
        return NULL;
    size_t length = strcspn(buffer + 4, " \r\n");
    return strndup(buffer + 4, length);
}

static void s_answer(int fd, int status, const char *message)
{
    char response[1024];
    char body[512];
    int body_length = snprintf(body, sizeof body, "<!DOCTYPE html><title>statsdash</title>"
                               "<p>%s</p>\n", message);
    int length = snprintf(response, sizeof response,
                          "HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\n"
                          "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
                          status, status == 200 ? "OK" : "Bad Request", body_length, body);
    if (send(fd, response, (size_t)length, MSG_NOSIGNAL) < 0) {
        //  The browser went away; the redirect was still read.
    }
}

//  Serves one connection. Returns 1 when it carried the code (*code set),
//  -1 when it carried the server's error (error filled), 0 to keep waiting.
static int s_serve(int fd, const char *state, char **code, char *error, size_t error_size)
{
    s_redirect redirect = {0};
    char *target = s_read_target(fd);
    if (target)
        s_parse_query(target, strlen(target), &redirect);
    free(target);
    int result = 0;
    if (!redirect.code && !redirect.error) {
        s_answer(fd, 400, "This address only receives the authorization redirect.");
    } else if (!redirect.state || strcmp(redirect.state, state) != 0) {
        s_answer(fd, 400, "The state parameter does not match this authorization; start "
                          "statsdash auth youtube again.");
    } else if (redirect.error) {
        snprintf(error, error_size, "the authorization server returned %.100s: %.300s",
                 redirect.error,
                 redirect.error_description ? redirect.error_description : "no description");
        s_answer(fd, 400, "Authorization failed; see the terminal.");
        result = -1;
    } else {
        s_answer(fd, 200, "Authorization received. You can close this window and return to "
                          "the terminal.");
        *code = redirect.code;
        redirect.code = NULL;
        result = 1;
    }
    s_redirect_clear(&redirect);
    return result;
}

static int64_t s_now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int cli_loopback_wait(cli_loopback *loopback, const char *state, int timeout_ms, char **code,
                      char *error, size_t error_size)
{
    int64_t deadline = s_now_ms() + timeout_ms;
    *code = NULL;
    for (;;) {
        int64_t left = deadline - s_now_ms();
        if (left <= 0) {
            snprintf(error, error_size, "no authorization arrived within %d s; run the command "
                     "again and open the URL it prints", timeout_ms / 1000);
            return -1;
        }
        struct pollfd item = {.fd = loopback->fd, .events = POLLIN};
        int ready = poll(&item, 1, (int)(left > 1000 ? 1000 : left));
        if (ready < 0 && errno != EINTR) {
            snprintf(error, error_size, "waiting for the redirect failed: %s", strerror(errno));
            return -1;
        }
        if (ready < 0) {
            snprintf(error, error_size, "interrupted while waiting for the authorization");
            return -1;
        }
        if (ready == 0)
            continue;
        int fd = accept4(loopback->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        int result = s_serve(fd, state, code, error, error_size);
        close(fd);
        if (result != 0)
            return result > 0 ? 0 : -1;
    }
}
