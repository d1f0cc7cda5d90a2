/*  sd_broker_mmi: the broker's own services (ZeroMQ RFC 8, Majordomo
    Management Interface).

    mmi.service: body [name]; replies "200" when the service has live
    workers, "404" otherwise.
    mmi.status: replies one msgpack map from each service name to a map of
    "workers" (live, idle or busy), "idle", "queued" and "served" (worker
    replies forwarded since the service was created), all unsigned ints.
    Any other mmi. name: "501".  */
#include "sd_broker_internal.h"

#include <msgpack.h>

#include "sd_broker_service.h"
#include "sd_log.h"
#include "sd_mdp.h"

//  Returns the mmi.service status code for the service named by body's
//  first frame: "200" with live workers, "404" otherwise.
static const char *s_service_code(sd_broker *self, zmsg_t *body)
{
    zframe_t *name = zmsg_first(body);
    if (!name || !sd_mdp_service_valid(zframe_data(name), zframe_size(name)))
        return "404";
    char *text = sd_mdp_frame_text(name);
    sd_broker_service *service = text ? sd_broker_service_lookup(self, text) : NULL;
    free(text);
    return service && service->workers > 0 ? "200" : "404";
}

//  The packers return 0, or -1 when the buffer could not grow.
static int s_pack_text(msgpack_packer *packer, const char *text)
{
    size_t length = strlen(text);
    return msgpack_pack_str(packer, length) | msgpack_pack_str_body(packer, text, length);
}

static int s_pack_count(msgpack_packer *packer, const char *name, uint64_t value)
{
    return s_pack_text(packer, name) | msgpack_pack_uint64(packer, value);
}

//  Builds the mmi.status reply body, or returns NULL when out of memory.
static zmsg_t *s_status_body(sd_broker *self)
{
    msgpack_sbuffer buffer;
    msgpack_packer packer;
    msgpack_sbuffer_init(&buffer);
    msgpack_packer_init(&packer, &buffer, msgpack_sbuffer_write);

    int rc = msgpack_pack_map(&packer, zhash_size(self->services));
    for (sd_broker_service *service = zhash_first(self->services); service;
         service = zhash_next(self->services)) {
        rc |= s_pack_text(&packer, service->name);
        rc |= msgpack_pack_map(&packer, 4);
        rc |= s_pack_count(&packer, "workers", service->workers);
        rc |= s_pack_count(&packer, "idle", zlist_size(service->waiting));
        rc |= s_pack_count(&packer, "queued", zlist_size(service->requests));
        rc |= s_pack_count(&packer, "served", service->served);
    }
    zmsg_t *body = rc == 0 && buffer.data ? zmsg_new() : NULL;
    if (body && zmsg_addmem(body, buffer.data, buffer.size) != 0)
        zmsg_destroy(&body);
    msgpack_sbuffer_destroy(&buffer);
    return body;
}

//  Returns a one-frame body holding text, or NULL when out of memory.
static zmsg_t *s_text_body(const char *text)
{
    zmsg_t *body = zmsg_new();
    if (body && zmsg_addstr(body, text) != 0)
        zmsg_destroy(&body);
    return body;
}

void sd_broker_mmi(sd_broker *self, zframe_t *client, const char *service, zmsg_t **body)
{
    zmsg_t *reply = NULL;
    if (strcmp(service, "mmi.service") == 0)
        reply = s_text_body(s_service_code(self, *body));
    else if (strcmp(service, "mmi.status") == 0)
        reply = s_status_body(self);
    else
        reply = s_text_body("501");
    zmsg_destroy(body);
    sd_broker_send_to_client(self, client, service, reply);
    zmsg_destroy(&reply);
}
