/*  fuzz_mdp_broker: MDP frames from several peers into an in-process broker.

    Each input starts a new broker (sd_broker_new on inproc endpoints, with
    a queue limit of 2 so that the 503 path is reachable) on a zloop of its
    own, with three DEALER peers "P0", "P1" and "P2" connected to it. The
    input is a sequence of [peer byte][message] (see fuzz_input_message),
    each message sent as it is from peer (byte % 3). An envelope, header or
    command is only there if the input contains it. Then every peer sends
    an mmi request to "mmi.fuzz-sync". Its reply ("501") comes back after
    the broker handled all that peer's earlier messages, so the loop ends
    when each peer got one. A broker that stops replying fails the run
    after 10 s.
*/
#include <stdio.h>
#include <string.h>

#include "fuzz_util.h"
#include "sd_broker.h"
#include "sd_mdp.h"

#define PEERS 3
#define SYNC_SERVICE "mmi.fuzz-sync"
#define SYNC_TIMEOUT_MS 10000

typedef struct {
    zsock_t *peers[PEERS];
    bool synced[PEERS];
    size_t synced_count;
} harness;

//  Returns true when msg is the broker's reply to the sync request:
//  [empty]["MDPC01"][SYNC_SERVICE][...].
static bool s_is_sync_reply(zmsg_t *msg)
{
    zframe_t *empty = zmsg_first(msg);
    zframe_t *header = zmsg_next(msg);
    zframe_t *service = zmsg_next(msg);
    return empty && zframe_size(empty) == 0 && header &&
           sd_mdp_frame_equals(header, SD_MDPC_HEADER) && service &&
           sd_mdp_frame_equals(service, SYNC_SERVICE);
}

//  Reads what the broker sent a peer; ends the loop once every peer saw
//  its sync reply.
static int s_peer_readable(zloop_t *loop, zsock_t *socket, void *arg)
{
    (void)loop;
    harness *self = arg;
    zmsg_t *msg = zmsg_recv(socket);
    for (size_t i = 0; msg && i < PEERS; i++) {
        if (self->peers[i] == socket && !self->synced[i] && s_is_sync_reply(msg)) {
            self->synced[i] = true;
            self->synced_count++;
        }
    }
    zmsg_destroy(&msg);
    return self->synced_count == PEERS ? -1 : 0;
}

static int s_sync_timeout(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    harness *self = arg;
    fuzz_fail("broker did not answer the mmi sync request of %zu of %d peers within %d ms",
              PEERS - self->synced_count, PEERS, SYNC_TIMEOUT_MS);
}

//  Returns a DEALER connected to endpoint with the routing id "P<index>",
//  so that inputs can address replies to a peer.
static zsock_t *s_peer_new(const char *endpoint, size_t index)
{
    char identity[8];
    snprintf(identity, sizeof identity, "P%zu", index);
    zsock_t *peer = zsock_new(ZMQ_DEALER);
    if (!peer)
        fuzz_fail("cannot create peer %zu", index);
    zsock_set_identity(peer, identity);
    if (zsock_connect(peer, "%s", endpoint) != 0)
        fuzz_fail("cannot connect peer %zu to %s", index, endpoint);
    return peer;
}

static void s_send_sync(zsock_t *peer)
{
    zmsg_t *msg = zmsg_new();
    if (!msg || zmsg_addmem(msg, NULL, 0) || zmsg_addstr(msg, SD_MDPC_HEADER) ||
        zmsg_addstr(msg, SYNC_SERVICE) || zmsg_addstr(msg, "fuzz") || zmsg_send(&msg, peer))
        fuzz_fail("cannot send the sync request");
}

//  Sends the input's messages from the peers it names.
static void s_send_input(harness *self, fuzz_input *input)
{
    while (!fuzz_input_done(input)) {
        zsock_t *peer = self->peers[fuzz_input_byte(input) % PEERS];
        zmsg_t *msg = fuzz_input_message(input);

        if (zmsg_send(&msg, peer) != 0)
            fuzz_fail("cannot send an input message");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned instance;
    fuzz_zsys_init();
    fuzz_zsys_settle();
    fuzz_quiet_logs();

    char router[64];
    char publish[64];
    char subscribe[64];
    snprintf(router, sizeof router, "inproc://fuzz-broker-%u", instance);
    snprintf(publish, sizeof publish, "inproc://fuzz-broker-pub-%u", instance);
    snprintf(subscribe, sizeof subscribe, "inproc://fuzz-broker-sub-%u", instance);
    instance++;

    //  NOTE: the broker reads a request's "deadline_ms" against the real
    //  clock, so an input with a deadline near now may take another path
    //  when replayed later.
    sd_config_broker config = {
        .endpoint = router,
        .bus_publish = publish,
        .bus_subscribe = subscribe,
        .queue_limit = 2,
    };
    sd_broker *broker = sd_broker_new(&config);
    zloop_t *loop = zloop_new();
    if (!broker || !loop || sd_broker_attach(broker, loop) != 0)
        fuzz_fail("cannot start the broker on %s", router);

    harness self = {{NULL}, {false}, 0};
    for (size_t i = 0; i < PEERS; i++) {
        self.peers[i] = s_peer_new(router, i);
        if (zloop_reader(loop, self.peers[i], s_peer_readable, &self) != 0)
            fuzz_fail("cannot add peer %zu to the loop", i);
    }
    fuzz_input input = {data, size, 0};
    s_send_input(&self, &input);
    for (size_t i = 0; i < PEERS; i++)
        s_send_sync(self.peers[i]);
    if (zloop_timer(loop, SYNC_TIMEOUT_MS, 1, s_sync_timeout, &self) < 0)
        fuzz_fail("cannot add the sync timer");
    zloop_start(loop);

    for (size_t i = 0; i < PEERS; i++)
        zloop_reader_end(loop, self.peers[i]);
    sd_broker_destroy(&broker);
    zloop_destroy(&loop);
    for (size_t i = 0; i < PEERS; i++) {
        zsock_set_linger(self.peers[i], 0);
        zsock_destroy(&self.peers[i]);
    }
    return 0;
}
