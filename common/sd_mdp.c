/*  sd_mdp: frame helpers shared by the MDP broker, client and worker.  */
#include "sd_mdp.h"

#include "sd_proto.h"

#include <errno.h>
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

int sd_mdp_body_id(const void *data, size_t size, char *id, size_t id_size)
{
    static const char *const keys[] = {"job_id", "id", "request_id"};
    int rc = -1;
    if (id_size > 0)
        id[0] = '\0';
    if (!data || size == 0 || id_size == 0)
        return -1;

    //  A header walk, not msgpack-c: msgpack-c reserves memory for every
    //  declared count before reading, and this body comes from a peer.
    for (size_t i = 0; i < sizeof keys / sizeof keys[0] && rc != 0; i++) {
        const char *value;
        size_t len;
        if (sd_msg_peek_string(data, size, keys[i], &value, &len) == 0 && len > 0 &&
            len < id_size && !memchr(value, '\0', len)) {
            memcpy(id, value, len);
            id[len] = '\0';
            rc = 0;
        }
    }
    return rc;
}
