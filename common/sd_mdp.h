/*  sd_mdp: Majordomo Protocol MDP/0.1 (ZeroMQ RFC 7) constants, shared by
    the broker, the client code and the worker code.

    Client to broker:  [empty] "MDPC01" service body...
    Broker to client:  [empty] "MDPC01" service body...
    Worker frames:     [empty] "MDPW01" command ...
      READY       0x01 service
      REQUEST     0x02 client-address [empty] body...
      REPLY       0x03 client-address [empty] body...
      HEARTBEAT   0x04
      DISCONNECT  0x05
*/
#ifndef SD_MDP_H
#define SD_MDP_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SD_MDPC_HEADER "MDPC01"
#define SD_MDPW_HEADER "MDPW01"

#define SD_MDPW_READY 0x01
#define SD_MDPW_REQUEST 0x02
#define SD_MDPW_REPLY 0x03
#define SD_MDPW_HEARTBEAT 0x04
#define SD_MDPW_DISCONNECT 0x05

#define SD_MDP_HEARTBEAT_MS_DEFAULT 2500
#define SD_MDP_LIVENESS_DEFAULT 3

//  Service names are printable ASCII of at most this many bytes.
#define SD_MDP_SERVICE_MAX 64

//  Returns true when data is a valid service name: 1 to SD_MDP_SERVICE_MAX
//  bytes of printable ASCII without spaces. Frames from peers are checked
//  with this before they are used as strings.
bool sd_mdp_service_valid(const void *data, size_t size);

//  Returns true when frame contains exactly the bytes of text (no terminator).
bool sd_mdp_frame_equals(zframe_t *frame, const char *text);

//  Returns the frame's content as a new NUL-terminated string of its bytes
//  (caller frees), or NULL when out of memory.
char *sd_mdp_frame_text(zframe_t *frame);

//  Sends every frame of *msg without blocking, destroys the message and
//  sets *msg to NULL, even on failure. Returns 0, or -1 with errno set
//  (EHOSTUNREACH: a ROUTER_MANDATORY peer is gone; EAGAIN: its queue is
//  full). Unlike zmsg_send, it frees every frame when a send fails.
int sd_mdp_send(zsock_t *socket, zmsg_t **msg);

//  Longest request id sd_mdp_body_id copies, terminator included.
#define SD_MDP_ID_MAX 128

//  Copies the request id of a msgpack body into id (id_size bytes): the
//  first string among the top-level fields "job_id", "id" and
//  "request_id", which is how every request and reply type of sd_proto
//  names the request it belongs to. Returns 0, or -1 when the body is not a
//  msgpack map, has none of those strings, or the id is empty or does not
//  fit (id is then "").
int sd_mdp_body_id(const void *data, size_t size, char *id, size_t id_size);

//  Sets ZMQ_MAXMSGSIZE on socket when max_bytes is above 0, so that larger
//  messages from peers are refused by libzmq. Returns 0 or -1.
int sd_mdp_set_max_message_bytes(zsock_t *socket, int64_t max_bytes);

#endif
