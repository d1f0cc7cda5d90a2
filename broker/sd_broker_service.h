/*  sd_broker_service: service registry, queues and dispatch of the broker,
    and the worker records they point to. Not for use outside broker/.  */
#ifndef SD_BROKER_SERVICE_H
#define SD_BROKER_SERVICE_H

#include "sd_broker_internal.h"

//  Returns the service of that name, or NULL.
sd_broker_service *sd_broker_service_lookup(sd_broker *self, const char *name);

//  Returns the service of that name, creating it when missing. Returns
//  NULL when SD_BROKER_SERVICES_MAX services exist (logged) or out of memory.
sd_broker_service *sd_broker_service_require(sd_broker *self, const char *name);

//  Removes the service from the registry when it has no workers and no
//  queued requests, and frees it.
void sd_broker_service_prune(sd_broker *self, sd_broker_service *service);

//  Frees a service record and its queued requests. Safe on NULL.
void sd_broker_service_free(sd_broker_service **service_p);

//  Sends queued requests to idle workers while there are both.
void sd_broker_dispatch(sd_broker *self, sd_broker_service *service);

//  Sends [client][empty]["MDPC01"][service][body...]; a client that is gone
//  is logged. The caller keeps body; NULL (out of memory) is logged and
//  nothing is sent.
void sd_broker_send_to_client(sd_broker *self, zframe_t *client, const char *service,
                              zmsg_t *body);

//  Sends [worker][empty]["MDPW01"][command], for a command without frames
//  of its own (HEARTBEAT, DISCONNECT). Returns 0, or -1 with errno
//  (EHOSTUNREACH when the worker is gone).
int sd_broker_send_to_worker(sd_broker *self, sd_broker_worker *worker, int command);

//  Forgets a worker: removes it from its service and the registry and
//  frees it. A request it held goes back to the front of the service's
//  queue (sd_broker_requeue) and is dispatched again. A service left
//  without workers, requests and served requests is removed. reason is
//  logged.
void sd_broker_worker_delete(sd_broker *self, sd_broker_worker **worker_p, const char *reason);

//  Same as sd_broker_worker_delete without the dispatch and the removal of
//  the service, for use inside sd_broker_dispatch.
void sd_broker_worker_drop(sd_broker *self, sd_broker_worker **worker_p, const char *reason);

//  Replies to a request for an "mmi." service (MDP's Majordomo Management
//  Interface, ZeroMQ RFC 8). Takes ownership of *body.
void sd_broker_mmi(sd_broker *self, zframe_t *client, const char *service, zmsg_t **body);

#endif
