/*  fuzz_mdwrk: frames from a broker into the MDP worker code.

    Each input starts a fake broker (a ROUTER on an inproc endpoint) and an
    sd_mdwrk for service "fuzz" on a zloop. Once the worker's READY arrives,
    the input's messages (see fuzz_input_message) go to the worker behind
    its routing id, followed by a valid REQUEST whose body is SYNC_BODY.
    The request handler replies to every request at once. The loop ends when
    the handler receives SYNC_BODY, or when the worker reconnects after a
    DISCONNECT (its new socket sends READY). A worker that does neither
    within 10 s fails the run.
*/
#include <stdio.h>
#include <string.h>

#include "fuzz_util.h"
#include "sd_mdp.h"
#include "sd_mdwrk.h"

#define SYNC_BODY "fuzz-sync"
#define SYNC_TIMEOUT_MS 10000

typedef struct {
    zsock_t *broker;     //  fake broker ROUTER
    zframe_t *worker_id; //  routing id of the worker's first socket
    zsock_t *stop_in;    //  PAIR: a byte here ends the loop
    zsock_t *stop_out;
} harness;

static void s_stop(harness *self)
{
    if (zstr_send(self->stop_out, "stop") != 0)
        fuzz_fail("cannot signal the end of the loop");
}

static void s_on_request(sd_mdwrk *worker, zframe_t *client, zmsg_t *body, void *arg)
{
    harness *self = arg;
    zframe_t *first = zmsg_first(body);
    bool sync = first && sd_mdp_frame_equals(first, SYNC_BODY);
    sd_mdwrk_reply(worker, &client, &body);
    if (sync)
        s_stop(self);
}

static int s_stop_readable(zloop_t *loop, zsock_t *socket, void *arg)
{
    (void)loop;
    (void)arg;
    char *text = zstr_recv(socket);
    zstr_free(&text);
    return -1;
}

//  Reads what the worker sent the fake broker; a READY from a new routing
//  id means the worker reconnected, which ends the loop.
static int s_broker_readable(zloop_t *loop, zsock_t *socket, void *arg)
{
    (void)loop;
    harness *self = arg;
    zmsg_t *msg = zmsg_recv(socket);
    zframe_t *sender = msg ? zmsg_first(msg) : NULL;
    bool reconnected = sender && !zframe_eq(sender, self->worker_id);
    zmsg_destroy(&msg);
    return reconnected ? -1 : 0;
}

static int s_sync_timeout(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    (void)arg;
    fuzz_fail("worker neither handled the sync request nor reconnected within %d ms",
              SYNC_TIMEOUT_MS);
}

//  Waits for the worker's READY and keeps its routing id.
static void s_wait_ready(harness *self)
{
    zsock_set_rcvtimeo(self->broker, SYNC_TIMEOUT_MS);
    zmsg_t *ready = zmsg_recv(self->broker);
    if (!ready)
        fuzz_fail("worker sent no READY within %d ms", SYNC_TIMEOUT_MS);
    self->worker_id = zmsg_pop(ready);
    zmsg_destroy(&ready);
}

static void s_send_to_worker(harness *self, zmsg_t **msg)
{
    zframe_t *id = zframe_dup(self->worker_id);
    if (!id || zmsg_prepend(*msg, &id) != 0 || zmsg_send(msg, self->broker) != 0)
        fuzz_fail("cannot send a message to the worker");
}

static void s_send_sync(harness *self)
{
    zmsg_t *msg = zmsg_new();
    uint8_t command = SD_MDPW_REQUEST;
    if (!msg || zmsg_addmem(msg, NULL, 0) || zmsg_addstr(msg, SD_MDPW_HEADER) ||
        zmsg_addmem(msg, &command, 1) || zmsg_addstr(msg, "fuzz-client") ||
        zmsg_addmem(msg, NULL, 0) || zmsg_addstr(msg, SYNC_BODY))
        fuzz_fail("out of memory");
    s_send_to_worker(self, &msg);
}

static zloop_t *s_loop_new(harness *self, sd_mdwrk *worker)
{
    zloop_t *loop = zloop_new();
    if (!loop || sd_mdwrk_attach(worker, loop, s_on_request, self) != 0 ||
        zloop_reader(loop, self->broker, s_broker_readable, self) != 0 ||
        zloop_reader(loop, self->stop_in, s_stop_readable, self) != 0 ||
        zloop_timer(loop, SYNC_TIMEOUT_MS, 1, s_sync_timeout, self) < 0)
        fuzz_fail("cannot set up the loop");
    return loop;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned instance;
    fuzz_zsys_init();
    fuzz_zsys_settle();
    fuzz_quiet_logs();

    char endpoint[64];
    char stop[64];
    snprintf(endpoint, sizeof endpoint, "inproc://fuzz-mdwrk-%u", instance);
    snprintf(stop, sizeof stop, "inproc://fuzz-mdwrk-stop-%u", instance);
    instance++;
    harness self = {zsock_new(ZMQ_ROUTER), NULL, zsock_new(ZMQ_PAIR), zsock_new(ZMQ_PAIR)};
    if (!self.broker || !self.stop_in || !self.stop_out ||
        zsock_bind(self.broker, "%s", endpoint) != 0 || zsock_bind(self.stop_in, "%s", stop) != 0 ||
        zsock_connect(self.stop_out, "%s", stop) != 0)
        fuzz_fail("cannot create the fake broker sockets");

    sd_mdwrk_options options = {.endpoint = endpoint, .service = "fuzz", .reconnect_ms = 1};
    sd_mdwrk *worker = sd_mdwrk_new(&options);
    if (!worker)
        fuzz_fail("cannot create the worker");
    zloop_t *loop = s_loop_new(&self, worker);
    s_wait_ready(&self);

    fuzz_input input = {data, size, 0};
    while (!fuzz_input_done(&input)) {
        zmsg_t *msg = fuzz_input_message(&input);
        s_send_to_worker(&self, &msg);
    }
    s_send_sync(&self);
    zloop_start(loop);

    sd_mdwrk_destroy(&worker);
    zloop_destroy(&loop);
    zframe_destroy(&self.worker_id);
    zsock_destroy(&self.stop_out);
    zsock_destroy(&self.stop_in);
    zsock_set_linger(self.broker, 0);
    zsock_destroy(&self.broker);
    return 0;
}
