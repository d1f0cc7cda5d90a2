/*  fuzz_mdcli: frames from a broker into the MDP client code.

    Each input starts a fake broker (a ROUTER on an inproc endpoint) and an
    sd_mdcli on a zloop. The client first sends four requests: two to "ga"
    (one with the msgpack request id "r1", one plain), one to "youtube"
    with job id "j2", and one to SYNC_SERVICE. Once all four arrived, the
    input's messages (see fuzz_input_message) go to the client as replies,
    followed by a valid reply from SYNC_SERVICE. Replies the client matches
    reach the handler, and the loop ends when the handler receives the one
    from SYNC_SERVICE. A client that does not get there within 10 s fails
    the run.
*/
#include <stdio.h>
#include <string.h>

#include "fuzz_util.h"
#include "sd_mdcli.h"
#include "sd_mdp.h"

#define SYNC_SERVICE "fuzz.sync"
#define SYNC_TIMEOUT_MS 10000
#define REQUESTS 4

//  msgpack maps {"id": "r1"} and {"job_id": "j2"}.
static const uint8_t s_body_r1[] = {0x81, 0xa2, 'i', 'd', 0xa2, 'r', '1'};
static const uint8_t s_body_j2[] = {0x81, 0xa6, 'j', 'o', 'b', '_', 'i', 'd', 0xa2, 'j', '2'};

typedef struct {
    zsock_t *broker;     //  fake broker ROUTER
    zframe_t *client_id; //  routing id of the client's socket
    zsock_t *stop_in;    //  PAIR: a byte here ends the loop
    zsock_t *stop_out;
} harness;

static void s_on_reply(sd_mdcli *client, const char *service, zmsg_t *body, void *arg)
{
    (void)client;
    harness *self = arg;
    zmsg_destroy(&body);
    if (strcmp(service, SYNC_SERVICE) == 0 && zstr_send(self->stop_out, "stop") != 0)
        fuzz_fail("cannot signal the end of the loop");
}

static int s_stop_readable(zloop_t *loop, zsock_t *socket, void *arg)
{
    (void)loop;
    (void)arg;
    char *text = zstr_recv(socket);
    zstr_free(&text);
    return -1;
}

//  Drops what the client sends later (probes, resent requests).
static int s_broker_readable(zloop_t *loop, zsock_t *socket, void *arg)
{
    (void)loop;
    (void)arg;
    zmsg_t *msg = zmsg_recv(socket);
    zmsg_destroy(&msg);
    return 0;
}

static int s_sync_timeout(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    (void)arg;
    fuzz_fail("client did not pass on the sync reply within %d ms", SYNC_TIMEOUT_MS);
}

static void s_send_request(sd_mdcli *client, const char *service, const void *body, size_t size)
{
    zmsg_t *msg = zmsg_new();
    if (!msg || zmsg_addmem(msg, body, size) != 0 || sd_mdcli_send(client, service, &msg) != 0)
        fuzz_fail("client cannot send a request to %s", service);
}

//  Sends the client's requests and waits until the fake broker has them
//  all, keeping the client's routing id.
static void s_send_requests(harness *self, sd_mdcli *client)
{
    s_send_request(client, "ga", s_body_r1, sizeof s_body_r1);
    s_send_request(client, "ga", "plain", 5);
    s_send_request(client, "youtube", s_body_j2, sizeof s_body_j2);
    s_send_request(client, SYNC_SERVICE, "sync", 4);
    zsock_set_rcvtimeo(self->broker, SYNC_TIMEOUT_MS);
    for (int i = 0; i < REQUESTS; i++) {
        zmsg_t *request = zmsg_recv(self->broker);
        if (!request)
            fuzz_fail("fake broker got %d of %d requests within %d ms", i, REQUESTS,
                      SYNC_TIMEOUT_MS);
        zframe_destroy(&self->client_id);
        self->client_id = zmsg_pop(request);
        zmsg_destroy(&request);
    }
}

static void s_send_to_client(harness *self, zmsg_t **msg)
{
    zframe_t *id = zframe_dup(self->client_id);
    if (!id || zmsg_prepend(*msg, &id) != 0 || zmsg_send(msg, self->broker) != 0)
        fuzz_fail("cannot send a message to the client");
}

static void s_send_sync(harness *self)
{
    zmsg_t *msg = zmsg_new();
    if (!msg || zmsg_addmem(msg, NULL, 0) || zmsg_addstr(msg, SD_MDPC_HEADER) ||
        zmsg_addstr(msg, SYNC_SERVICE) || zmsg_addstr(msg, "sync"))
        fuzz_fail("out of memory");
    s_send_to_client(self, &msg);
}

static zloop_t *s_loop_new(harness *self, sd_mdcli *client)
{
    zloop_t *loop = zloop_new();
    if (!loop || sd_mdcli_attach(client, loop, s_on_reply, self) != 0 ||
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
    snprintf(endpoint, sizeof endpoint, "inproc://fuzz-mdcli-%u", instance);
    snprintf(stop, sizeof stop, "inproc://fuzz-mdcli-stop-%u", instance);
    instance++;
    harness self = {zsock_new(ZMQ_ROUTER), NULL, zsock_new(ZMQ_PAIR), zsock_new(ZMQ_PAIR)};
    if (!self.broker || !self.stop_in || !self.stop_out ||
        zsock_bind(self.broker, "%s", endpoint) != 0 || zsock_bind(self.stop_in, "%s", stop) != 0 ||
        zsock_connect(self.stop_out, "%s", stop) != 0)
        fuzz_fail("cannot create the fake broker sockets");

    sd_mdcli *client = sd_mdcli_new(endpoint, NULL);
    if (!client)
        fuzz_fail("cannot create the client");
    zloop_t *loop = s_loop_new(&self, client);
    s_send_requests(&self, client);

    fuzz_input input = {data, size, 0};
    while (!fuzz_input_done(&input)) {
        zmsg_t *msg = fuzz_input_message(&input);

        s_send_to_client(&self, &msg);
    }
    s_send_sync(&self);
    zloop_start(loop);

    sd_mdcli_destroy(&client);
    zloop_destroy(&loop);
    zframe_destroy(&self.client_id);
    zsock_destroy(&self.stop_out);
    zsock_destroy(&self.stop_in);
    zsock_set_linger(self.broker, 0);
    zsock_destroy(&self.broker);
    return 0;
}
