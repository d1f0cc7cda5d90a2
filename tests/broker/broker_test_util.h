/*  broker_test_util: brokers and echo workers run on zactors for the
    broker tests, all on loopback ports chosen at run time.  */
#ifndef BROKER_TEST_UTIL_H
#define BROKER_TEST_UTIL_H

#include <czmq.h>
#include <stdbool.h>

#include "sd_mdcli.h"

//  Heartbeat settings of every test broker and worker: expiry after
//  600 ms of silence, long enough for a busy loaded machine.
#define TEST_HEARTBEAT_MS 150
#define TEST_LIVENESS 4
#define TEST_RECONNECT_MS 200

typedef struct {
    zactor_t *actor;
    char *endpoint;  //  MDP ROUTER
    char *publish;   //  bus XSUB
    char *subscribe; //  bus XPUB
} test_broker;

//  Starts a broker whose ROUTER binds bind ("tcp://127.0.0.1:*" for any
//  port). Returns 0, or -1 when it could not bind.
int test_broker_start(test_broker *broker, const char *bind);

//  Fills config with the test settings: the ROUTER binds bind, the bus
//  sockets bind any loopback port, TEST_HEARTBEAT_MS, TEST_LIVENESS, a
//  queue limit of 100 and 1 MiB messages.
void test_broker_config(sd_config_broker *config, const char *bind);

//  Starts a broker with config. Returns 0, or -1 when it could not start.
int test_broker_start_config(test_broker *broker, const sd_config_broker *config);

void test_broker_stop(test_broker *broker);

//  Starts count echo workers of service, named "<service>-0" and up, on one
//  zactor. Each replies [name][request frames...]; a request whose first
//  frame starts with "later:" gets its reply 20 ms later, from a timer.
zactor_t *test_workers_start(const char *endpoint, const char *service, int count);

//  Same as test_workers_start with broker settings (CURVE keys) for the
//  workers; broker may be NULL.
zactor_t *test_workers_start_config(const char *endpoint, const char *service, int count,
                                    const sd_config_broker *broker);

//  Counts of one service in an mmi.status reply.
typedef struct {
    uint64_t workers;
    uint64_t idle;
    uint64_t queued;
    uint64_t served;
} test_service_counts;

//  Sends mmi.status and reads the counts of service (all zero when the
//  reply does not list it). Returns true when a well-formed reply came.
bool test_status(sd_mdcli *client, const char *service, test_service_counts *counts);

//  Sends text to service and waits up to timeout_ms. Returns the reply's
//  frames joined with '|' (caller frees), or NULL on timeout.
char *test_request(sd_mdcli *client, const char *service, const char *text, int timeout_ms);

//  Repeats an mmi.service request for service until the reply is expected
//  or timeout_ms passed. Returns true when the expected reply came.
bool test_wait_mmi(sd_mdcli *client, const char *service, const char *expected, int timeout_ms);

//  Receives one message from socket within timeout_ms; NULL on timeout.
zmsg_t *test_recv(zsock_t *socket, int timeout_ms);

//  Returns true when frame contains exactly size bytes equal to data.
bool test_frame_is(zframe_t *frame, const void *data, size_t size);

#endif
