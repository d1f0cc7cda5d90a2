/*  sd_mdp: frame helpers shared by the MDP broker, client and worker.  */
#include "sd_mdp.h"

#include <errno.h>
#include <msgpack.h>
#include <string.h>

bool sd_mdp_service_valid(const void *data, size_t size)
{
    const unsigned char *bytes = data;
    if (!data || size == 0 || size > SD_MDP_SERVICE_MAX)
        return false;
    for (size_t i = 0; i < size; i++) {
        if (bytes[i] <= 0x20 || bytes[i] >= 0x7f)
            return false;
    }
    return true;
}

bool sd_mdp_frame_equals(zframe_t *frame, const char *text)
{
    size_t length = strlen(text);
    return frame && zframe_size(frame) == length && memcmp(zframe_data(frame), text, length) == 0;
}

char *sd_mdp_frame_text(zframe_t *frame)
{
    size_t size = zframe_size(frame);
    char *text = malloc(size + 1);
    if (!text)
        return NULL;
    if (size > 0)
        memcpy(text, zframe_data(frame), size);
    text[size] = '\0';
    return text;
}

int sd_mdp_send(zsock_t *socket, zmsg_t **msg)
{
    int rc = -1;
    int saved_errno = EINVAL;
    size_t remaining = *msg ? zmsg_size(*msg) : 0;

    //  ZFRAME_REUSE keeps each frame ours, so a failed send leaks nothing;
    //  the whole message is destroyed once below.
    for (zframe_t *frame = remaining ? zmsg_first(*msg) : NULL; frame; frame = zmsg_next(*msg)) {
        remaining--;
        int flags = ZFRAME_REUSE | ZFRAME_DONTWAIT | (remaining ? ZFRAME_MORE : 0);
        rc = zframe_send(&frame, socket, flags);
        if (rc != 0) {
            saved_errno = errno;
            break;
        }
    }
    zmsg_destroy(msg);
    if (rc != 0)
        errno = saved_errno;
    return rc;
}

int sd_mdp_set_max_message_bytes(zsock_t *socket, int64_t max_bytes)
{
    if (max_bytes <= 0)
        return 0;
    return zmq_setsockopt(zsock_resolve(socket), ZMQ_MAXMSGSIZE, &max_bytes, sizeof max_bytes);
}

//  Returns the string value of key in a msgpack map, or NULL.
static const msgpack_object_str *s_map_string(const msgpack_object *map, const char *key)
{
    size_t length = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *entry = &map->via.map.ptr[i];
        if (entry->key.type == MSGPACK_OBJECT_STR && entry->key.via.str.size == length &&
            memcmp(entry->key.via.str.ptr, key, length) == 0)
            return entry->val.type == MSGPACK_OBJECT_STR ? &entry->val.via.str : NULL;
    }
    return NULL;
}

int sd_mdp_body_id(const void *data, size_t size, char *id, size_t id_size)
{
    static const char *const keys[] = {"job_id", "id", "request_id"};
    int rc = -1;
    if (id_size > 0)
        id[0] = '\0';
    if (!data || size == 0 || id_size == 0)
        return -1;

    //  The first byte tells whether the body is a map at all, so that other
    //  bodies (plain text in tests, "200" from mmi.service) cost nothing.
    unsigned char first = *(const unsigned char *)data;
    if ((first & 0xf0) != 0x80 && first != 0xde && first != 0xdf)
        return -1;
    msgpack_unpacked unpacked;
    msgpack_unpacked_init(&unpacked);
    size_t offset = 0;
    if (msgpack_unpack_next(&unpacked, data, size, &offset) == MSGPACK_UNPACK_SUCCESS &&
        unpacked.data.type == MSGPACK_OBJECT_MAP) {
        for (size_t i = 0; i < sizeof keys / sizeof keys[0] && rc != 0; i++) {
            const msgpack_object_str *value = s_map_string(&unpacked.data, keys[i]);
            if (value && value->size > 0 && value->size < id_size &&
                !memchr(value->ptr, '\0', value->size)) {
                memcpy(id, value->ptr, value->size);
                id[value->size] = '\0';
                rc = 0;
            }
        }
    }
    msgpack_unpacked_destroy(&unpacked);
    return rc;
}
