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

#endif
