/*  bench_broker: request/reply round trips per second through the MDP
    broker, next to a plain zmq_proxy forwarder with the same workers.

    For each session count (--sessions, default 1 and the fetch workers'
    default) and each worker count (--workers, default 1,2,8) the program
    runs two setups over TCP on 127.0.0.1, one after the other, in one
    process. A worker is a thread that polls its sessions together:

    broker   sd_broker in a zactor thread (the code of statsdash-broker).
             Clients are DEALER sockets that send MDP/0.1 (MDPC01)
             requests to service "echo". A session is a DEALER socket
             that sends READY and echoes each REQUEST body back in a
             REPLY, like one MDP worker of statsdash-worker-ga.
    proxy    zmq_proxy between a ROUTER (clients) and a DEALER (workers)
             in a thread, on a libzmq context of its own like the broker.
             Clients are DEALER sockets that send [empty][body]; a
             session is a REP socket that echoes the body.

    Each of --clients client threads keeps --window requests outstanding
    and sends a new one for every reply, so the pipe stays full. The body
    is a 23-byte msgpack map with an "id", like the services' requests.
    After --warmup seconds the replies received in --seconds are counted.
    Clients and workers use libzmq directly, so that their own cost stays
    small next to the forwarder's.

    Usage: bench_broker [--seconds S] [--warmup S] [--clients N]
                        [--window N] [--workers LIST] [--sessions LIST]
*/
#include <czmq.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sd_broker.h"
#include "sd_log.h"

#define SD_BENCH_SERVICE "echo"
#define SD_BENCH_POLL_MS 100
#define SD_BENCH_MAX_THREADS 64
#define SD_BENCH_MAX_SESSIONS 64
#define SD_BENCH_MAX_RUNS 8

typedef struct {
    double seconds;
    double warmup;
    int clients;
    int window;
    int workers[SD_BENCH_MAX_RUNS];
    int worker_runs;
    int sessions[SD_BENCH_MAX_RUNS];
    int session_runs;
} s_options;

//  What every client and worker thread of one run shares.
typedef struct {
    void *context;            //  libzmq context of the clients and workers
    char endpoint[256];       //  where clients connect
    char worker_endpoint[256]; //  where workers connect
    bool mdp;                 //  true: MDP framing; false: plain DEALER/REP
    int window;
    int sessions;             //  sockets per worker thread
    atomic_bool stop;
    atomic_ullong replies;
    atomic_int ready;          //  workers and clients connected
    atomic_int failures;       //  worker threads that lost or could not open a session
} s_run;

//  fixmap(1) "id" -> "bench-request-0001": a request body of 23 bytes.
static const char s_body[] = "\x81\xa2"
                             "id"
                             "\xb2"
                             "bench-request-0001";
#define SD_BENCH_BODY_SIZE (sizeof s_body - 1)

static double s_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

//  Sends parts as one multipart message. Returns 0 or -1.
static int s_send_parts(void *socket, const void *const *parts, const size_t *sizes, int count)
{
    for (int i = 0; i < count; i++) {
        int flags = i + 1 < count ? ZMQ_SNDMORE : 0;
        if (zmq_send(socket, parts[i], sizes[i], flags) < 0)
            return -1;
    }
    return 0;
}

//  Receives one multipart message into msgs (at most max parts; the rest
//  is dropped). Returns the number of parts, or -1.
static int s_recv_parts(void *socket, zmq_msg_t *msgs, int max)
{
    int count = 0;
    int more = 1;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, socket, 0) < 0) {
            zmq_msg_close(&part);
            for (int i = 0; i < count; i++)
                zmq_msg_close(&msgs[i]);
            return -1;
        }
        more = zmq_msg_more(&part);
        if (count < max)
            msgs[count++] = part;
        else
            zmq_msg_close(&part);
    }
    return count;
}

static void s_close_parts(zmq_msg_t *msgs, int count)
{
    for (int i = 0; i < count; i++)
        zmq_msg_close(&msgs[i]);
}

static int s_send_request(s_run *run, void *socket)
{
    if (run->mdp) {
        const void *parts[] = {"", "MDPC01", SD_BENCH_SERVICE, s_body};
        const size_t sizes[] = {0, 6, strlen(SD_BENCH_SERVICE), SD_BENCH_BODY_SIZE};
        return s_send_parts(socket, parts, sizes, 4);
    }
    const void *parts[] = {"", s_body};
    const size_t sizes[] = {0, SD_BENCH_BODY_SIZE};
    return s_send_parts(socket, parts, sizes, 2);
}

//  Waits up to SD_BENCH_POLL_MS for socket to be readable. Returns 1 when
//  it is, 0 on timeout, -1 on error.
static int s_wait_readable(void *socket)
{
    zmq_pollitem_t item = {socket, 0, ZMQ_POLLIN, 0};
    return zmq_poll(&item, 1, SD_BENCH_POLL_MS);
}

static void *s_new_socket(s_run *run, int type, const char *endpoint)
{
    void *socket = zmq_socket(run->context, type);
    int linger = 0;
    if (socket && (zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
                   zmq_connect(socket, endpoint) != 0)) {
        zmq_close(socket);
        socket = NULL;
    }
    return socket;
}

static void *s_client(void *arg)
{
    s_run *run = arg;
    void *socket = s_new_socket(run, ZMQ_DEALER, run->endpoint);
    atomic_fetch_add(&run->ready, 1);
    for (int i = 0; socket && i < run->window; i++)
        s_send_request(run, socket);
    while (socket && !atomic_load(&run->stop)) {
        if (s_wait_readable(socket) <= 0)
            continue;
        zmq_msg_t parts[8];
        int count = s_recv_parts(socket, parts, 8);
        if (count < 0)
            break;
        s_close_parts(parts, count);
        atomic_fetch_add_explicit(&run->replies, 1, memory_order_relaxed);
        s_send_request(run, socket);
    }
    if (socket)
        zmq_close(socket);
    return NULL;
}

//  Handles one broker message: echoes a REQUEST, replies to a HEARTBEAT.
//  Returns -1 on DISCONNECT.
static int s_mdp_worker_message(void *socket, zmq_msg_t *parts, int count)
{
    if (count < 3 || zmq_msg_size(&parts[2]) != 1)
        return 0;
    unsigned char command = *(unsigned char *)zmq_msg_data(&parts[2]);
    if (command == 0x05)
        return -1;
    if (command == 0x04) {
        const void *frames[] = {"", "MDPW01", "\x04"};
        const size_t sizes[] = {0, 6, 1};
        s_send_parts(socket, frames, sizes, 3);
    } else if (command == 0x02 && count >= 6) {
        //  REQUEST [empty][MDPW01][0x02][client][empty][body] -> REPLY.
        const void *frames[] = {"", "MDPW01", "\x03", zmq_msg_data(&parts[3]), "",
                                zmq_msg_data(&parts[5])};
        const size_t sizes[] = {0, 6, 1, zmq_msg_size(&parts[3]), 0, zmq_msg_size(&parts[5])};
        s_send_parts(socket, frames, sizes, 6);
    }
    return 0;
}

//  Handles one message of a REP session: echoes the body. Returns 0 or -1.
static int s_rep_worker_message(void *socket)
{
    zmq_msg_t body;
    zmq_msg_init(&body);
    if (zmq_msg_recv(&body, socket, 0) < 0 || zmq_msg_send(&body, socket, 0) < 0) {
        zmq_msg_close(&body);
        return -1;
    }
    return 0;
}

//  Handles one message of an MDP session. Returns 0, or -1 on DISCONNECT
//  or a receive error.
static int s_mdp_session_message(void *socket)
{
    zmq_msg_t parts[8];
    int count = s_recv_parts(socket, parts, 8);
    if (count < 0)
        return -1;
    int rc = s_mdp_worker_message(socket, parts, count);
    s_close_parts(parts, count);
    return rc;
}

//  Opens the worker's sessions: DEALER sockets that sent READY, or REP
//  sockets. Returns the number opened.
static int s_open_sessions(s_run *run, zmq_pollitem_t *items)
{
    const void *ready[] = {"", "MDPW01", "\x01", SD_BENCH_SERVICE};
    const size_t ready_sizes[] = {0, 6, 1, strlen(SD_BENCH_SERVICE)};
    int opened = 0;
    for (int i = 0; i < run->sessions; i++) {
        void *socket = s_new_socket(run, run->mdp ? ZMQ_DEALER : ZMQ_REP, run->worker_endpoint);
        if (socket && run->mdp && s_send_parts(socket, ready, ready_sizes, 4) != 0) {
            zmq_close(socket);
            socket = NULL;
        }
        if (socket)
            items[opened++] = (zmq_pollitem_t){socket, 0, ZMQ_POLLIN, 0};
    }
    return opened;
}

//  Closes the sessions, sending DISCONNECT first on MDP sessions.
static void s_close_sessions(s_run *run, zmq_pollitem_t *items, int count)
{
    const void *disconnect[] = {"", "MDPW01", "\x05"};
    const size_t sizes[] = {0, 6, 1};
    for (int i = 0; i < count; i++) {
        if (run->mdp)
            s_send_parts(items[i].socket, disconnect, sizes, 3);
        zmq_close(items[i].socket);
    }
}

//  One worker thread: polls its run->sessions sockets together and handles
//  one message of each readable socket per pass. A session that fails or
//  gets DISCONNECT stops the thread.
static void *s_worker(void *arg)
{
    s_run *run = arg;
    zmq_pollitem_t items[SD_BENCH_MAX_SESSIONS];
    int count = s_open_sessions(run, items);
    atomic_fetch_add(&run->ready, 1);
    bool failed = count < run->sessions;
    while (!failed && !atomic_load(&run->stop)) {
        if (zmq_poll(items, count, SD_BENCH_POLL_MS) <= 0)
            continue;
        for (int i = 0; i < count && !failed; i++) {
            if (!(items[i].revents & ZMQ_POLLIN))
                continue;
            int rc = run->mdp ? s_mdp_session_message(items[i].socket)
                              : s_rep_worker_message(items[i].socket);
            failed = rc != 0;
        }
    }
    if (failed && !atomic_load(&run->stop))
        atomic_fetch_add(&run->failures, 1);
    s_close_sessions(run, items, count);
    return NULL;
}

//  A zmq_proxy between a ROUTER for clients and a DEALER for workers, in a
//  thread; it returns when the context is shut down.
typedef struct {
    void *context; //  of its own, as the broker runs on CZMQ's context
    void *frontend;
    void *backend;
    pthread_t thread;
} s_proxy;

static void *s_proxy_thread(void *arg)
{
    s_proxy *proxy = arg;
    zmq_proxy(proxy->frontend, proxy->backend, NULL);
    zmq_close(proxy->frontend);
    zmq_close(proxy->backend);
    return NULL;
}

//  Binds a socket of type on a free loopback port. Returns it with the
//  endpoint in endpoint, or NULL.
static void *s_bind_any(void *context, int type, char *endpoint, size_t size)
{
    void *socket = zmq_socket(context, type);
    int linger = 0;
    if (socket && (zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
                   zmq_bind(socket, "tcp://127.0.0.1:*") != 0 ||
                   zmq_getsockopt(socket, ZMQ_LAST_ENDPOINT, endpoint, &size) != 0)) {
        zmq_close(socket);
        socket = NULL;
    }
    return socket;
}

static int s_proxy_start(s_proxy *proxy, s_run *run)
{
    proxy->frontend = s_bind_any(proxy->context, ZMQ_ROUTER, run->endpoint, sizeof run->endpoint);
    proxy->backend = s_bind_any(proxy->context, ZMQ_DEALER, run->worker_endpoint,
                                sizeof run->worker_endpoint);
    if (!proxy->frontend || !proxy->backend ||
        pthread_create(&proxy->thread, NULL, s_proxy_thread, proxy) != 0) {
        if (proxy->frontend)
            zmq_close(proxy->frontend);
        if (proxy->backend)
            zmq_close(proxy->backend);
        return -1;
    }
    return 0;
}

//  Starts the workers and clients, waits for them to connect, counts the
//  replies during options->seconds after the warm-up and stops the threads.
//  Returns round trips per second, or -1.
static double s_measure(s_run *run, const s_options *options, int workers)
{
    pthread_t threads[SD_BENCH_MAX_THREADS];
    int started = 0;
    for (int i = 0; i < workers && started < SD_BENCH_MAX_THREADS; i++)
        if (pthread_create(&threads[started], NULL, s_worker, run) == 0)
            started++;
    //  Workers register first, so that the broker does not queue the first
    //  window of requests behind one worker.
    while (atomic_load(&run->ready) < started)
        zclock_sleep(10);
    zclock_sleep(200);
    for (int i = 0; i < options->clients && started < SD_BENCH_MAX_THREADS; i++)
        if (pthread_create(&threads[started], NULL, s_client, run) == 0)
            started++;

    zclock_sleep((int)(options->warmup * 1000));
    double start = s_now();
    unsigned long long first = atomic_load(&run->replies);
    zclock_sleep((int)(options->seconds * 1000));
    unsigned long long last = atomic_load(&run->replies);
    double elapsed = s_now() - start;

    atomic_store(&run->stop, true);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    if (started != workers + options->clients || atomic_load(&run->failures) > 0)
        return -1;
    return (double)(last - first) / elapsed;
}

static double s_run_broker(const s_options *options, int workers, int sessions)
{
    sd_config_broker config = {
        .bind = "tcp://127.0.0.1:*",
        .bus_publish_bind = "tcp://127.0.0.1:*",
        .bus_subscribe_bind = "tcp://127.0.0.1:*",
        .heartbeat_ms = 2500,
        .liveness = 3,
        .queue_limit = 100000,
    };
    zactor_t *broker = zactor_new(sd_broker_actor, &config);
    char *endpoint = NULL, *publish = NULL, *subscribe = NULL;
    double rate = -1;
    s_run *run = calloc(1, sizeof *run);
    if (broker && run &&
        zstr_recvx(broker, &endpoint, &publish, &subscribe, NULL) == 3 && *endpoint) {
        run->context = zmq_ctx_new();
        run->mdp = true;
        run->window = options->window;
        run->sessions = sessions;
        snprintf(run->endpoint, sizeof run->endpoint, "%s", endpoint);
        snprintf(run->worker_endpoint, sizeof run->worker_endpoint, "%s", endpoint);
        rate = s_measure(run, options, workers);
        zmq_ctx_term(run->context);
    }
    zstr_free(&endpoint);
    zstr_free(&publish);
    zstr_free(&subscribe);
    zactor_destroy(&broker);
    free(run);
    return rate;
}

static double s_run_proxy(const s_options *options, int workers, int sessions)
{
    s_run *run = calloc(1, sizeof *run);
    s_proxy proxy = {0};
    double rate = -1;
    if (!run)
        return -1;
    run->context = zmq_ctx_new();
    proxy.context = zmq_ctx_new();
    run->window = options->window;
    run->sessions = sessions;
    if (run->context && proxy.context && s_proxy_start(&proxy, run) == 0) {
        rate = s_measure(run, options, workers);
        zmq_ctx_shutdown(proxy.context);
        pthread_join(proxy.thread, NULL);
    }
    if (run->context)
        zmq_ctx_term(run->context);
    if (proxy.context)
        zmq_ctx_term(proxy.context);
    free(run);
    return rate;
}

//  Parses a comma-separated list of 1 to SD_BENCH_MAX_RUNS integers, each
//  from 1 to max, into values. Returns 0 or -1.
static int s_parse_list(const char *text, int max, int *values, int *count)
{
    char *copy = strdup(text);
    if (!copy)
        return -1;
    *count = 0;
    char *state = NULL;
    int rc = 0;
    for (char *item = strtok_r(copy, ",", &state); item && rc == 0;
         item = strtok_r(NULL, ",", &state)) {
        int value = atoi(item);
        if (value < 1 || value > max || *count == SD_BENCH_MAX_RUNS)
            rc = -1;
        else
            values[(*count)++] = value;
    }
    free(copy);
    return rc == 0 && *count > 0 ? 0 : -1;
}

static int s_parse_options(int argc, char **argv, s_options *options)
{
    *options = (s_options){.seconds = 3, .warmup = 1, .clients = 4, .window = 16,
                           .workers = {1, 2, 8}, .worker_runs = 3,
                           .sessions = {1, SD_CONFIG_CONCURRENT_JOBS_DEFAULT}, .session_runs = 2};
    for (int i = 1; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!value)
            return -1;
        if (strcmp(argv[i], "--seconds") == 0)
            options->seconds = atof(value);
        else if (strcmp(argv[i], "--warmup") == 0)
            options->warmup = atof(value);
        else if (strcmp(argv[i], "--clients") == 0)
            options->clients = atoi(value);
        else if (strcmp(argv[i], "--window") == 0)
            options->window = atoi(value);
        else if (strcmp(argv[i], "--workers") == 0) {
            if (s_parse_list(value, 32, options->workers, &options->worker_runs) != 0)
                return -1;
        } else if (strcmp(argv[i], "--sessions") == 0) {
            if (s_parse_list(value, SD_BENCH_MAX_SESSIONS, options->sessions,
                             &options->session_runs) != 0)
                return -1;
        } else
            return -1;
        i++;
    }
    bool valid = options->seconds > 0 && options->warmup >= 0 && options->clients >= 1 &&
                 options->clients <= 16 && options->window >= 1;
    return valid ? 0 : -1;
}

//  Runs both setups with workers threads of sessions sockets each and
//  prints one row. Returns 0, or -1 when a run failed.
static int s_print_row(const s_options *options, int workers, int sessions)
{
    double broker = s_run_broker(options, workers, sessions);
    double proxy = s_run_proxy(options, workers, sessions);
    if (broker < 0 || proxy <= 0) {
        fprintf(stderr, "bench_broker: run with %d workers of %d sessions failed\n", workers,
                sessions);
        return -1;
    }
    printf("%-8d %9d %16.0f %16.0f %8.2f\n", workers, sessions, broker, proxy, broker / proxy);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    s_options options;
    if (s_parse_options(argc, argv, &options) != 0) {
        fprintf(stderr, "Usage: bench_broker [--seconds S] [--warmup S] [--clients 1-16] "
                        "[--window N] [--workers N,N,... (1-32)] [--sessions N,N,... (1-%d)]\n",
                SD_BENCH_MAX_SESSIONS);
        return 2;
    }
    sd_log_open("bench_broker", SD_LOG_WARNING, false);
    printf("clients=%d window=%d seconds=%.1f body_bytes=%zu\n", options.clients,
           options.window, options.seconds, SD_BENCH_BODY_SIZE);
    printf("%-8s %9s %16s %16s %8s\n", "workers", "sessions", "broker_rt_per_s",
           "proxy_rt_per_s", "ratio");
    int status = 0;
    for (int s = 0; s < options.session_runs; s++)
        for (int w = 0; w < options.worker_runs; w++)
            if (s_print_row(&options, options.workers[w], options.sessions[s]) != 0)
                status = 1;
    return status;
}
