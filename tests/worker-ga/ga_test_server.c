/*  ga_test_server: libmicrohttpd server for the HTTP and OAuth tests.  */
#include "ga_test_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ga_test_server {
    struct MHD_Daemon *daemon;
    ga_test_route_fn *route;
    void *arg;
    char url[64];
    size_t requests;
    pthread_mutex_t lock;
};

//  The request body collected across the handler's calls.
typedef struct {
    char *data;
    size_t size;
} s_upload;

static void s_sleep_ms(int ms)
{
    struct timespec delay = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&delay, NULL);
}

static enum MHD_Result s_respond(ga_test_server *server, struct MHD_Connection *connection,
                                 const char *method, const char *url, s_upload *upload)
{
    ga_test_reply reply = {.status = 200, .content_type = "application/json"};
    const char *authorization =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Authorization");
    server->route(method, url, authorization, upload->data ? upload->data : "", upload->size,
                  &reply, server->arg);
    if (reply.delay_ms > 0)
        s_sleep_ms(reply.delay_ms);

    size_t piece = reply.body ? strlen(reply.body) : 0;
    size_t repeat = reply.repeat ? reply.repeat : 1;
    char *text = malloc(piece * repeat + 1);
    for (size_t i = 0; text && i < repeat; i++)
        memcpy(text + i * piece, reply.body, piece);
    free(reply.body);
    if (!text)
        return MHD_NO;
    struct MHD_Response *response =
        MHD_create_response_from_buffer(piece * repeat, text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(response, "Content-Type", reply.content_type);
    if (reply.retry_after)
        MHD_add_response_header(response, "Retry-After", reply.retry_after);
    enum MHD_Result result = MHD_queue_response(connection, (unsigned)reply.status, response);
    MHD_destroy_response(response);

    pthread_mutex_lock(&server->lock);
    server->requests++;
    pthread_mutex_unlock(&server->lock);
    return result;
}

static enum MHD_Result s_handle(void *cls, struct MHD_Connection *connection, const char *url,
                                const char *method, const char *version,
                                const char *upload_data, size_t *upload_data_size,
                                void **state)
{
    (void)version;
    s_upload *upload = *state;
    if (!upload) {
        upload = calloc(1, sizeof *upload);
        *state = upload;
        return upload ? MHD_YES : MHD_NO;
    }
    if (*upload_data_size > 0) {
        char *grown = realloc(upload->data, upload->size + *upload_data_size + 1);
        if (!grown)
            return MHD_NO;
        memcpy(grown + upload->size, upload_data, *upload_data_size);
        upload->data = grown;
        upload->size += *upload_data_size;
        upload->data[upload->size] = '\0';
        *upload_data_size = 0;
        return MHD_YES;
    }
    return s_respond(cls, connection, method, url, upload);
}

static void s_completed(void *cls, struct MHD_Connection *connection, void **state,
                        enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)connection;
    (void)code;
    s_upload *upload = *state;
    if (upload) {
        free(upload->data);
        free(upload);
    }
    *state = NULL;
}

ga_test_server *ga_test_server_start(ga_test_route_fn *route, void *arg)
{
    ga_test_server *server = calloc(1, sizeof *server);
    if (!server)
        return NULL;
    server->route = route;
    server->arg = arg;
    pthread_mutex_init(&server->lock, NULL);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    server->daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, s_handle,
        server, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&address, MHD_OPTION_NOTIFY_COMPLETED,
        s_completed, NULL, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        server->daemon ? MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info) {
        ga_test_server_stop(&server);
        return NULL;
    }
    snprintf(server->url, sizeof server->url, "http://127.0.0.1:%u", (unsigned)info->port);
    return server;
}

const char *ga_test_server_url(const ga_test_server *server)
{
    return server->url;
}

size_t ga_test_server_requests(ga_test_server *server)
{
    pthread_mutex_lock(&server->lock);
    size_t requests = server->requests;
    pthread_mutex_unlock(&server->lock);
    return requests;
}

void ga_test_server_stop(ga_test_server **server_p)
{
    ga_test_server *server = *server_p;
    if (!server)
        return;
    if (server->daemon)
        MHD_stop_daemon(server->daemon);
    pthread_mutex_destroy(&server->lock);
    free(server);
    *server_p = NULL;
}
