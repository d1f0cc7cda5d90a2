/*  sd_aggregator: table bus subscriber, per-table merge state, deadline
    timers and publication of normalized tables.
*/
#include "sd_aggregator.h"

#include "sd_bus.h"
#include "sd_log.h"
#include "sd_mdp.h"
#include "sd_normalize.h"
#include "sd_period.h"
#include "sd_proto.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SD_AGGREGATOR_FINISHED_TTL_MS 300000
//  A table waits at most this long for its parts, whatever deadline they
//  carry, so a wrong deadline from a peer cannot keep memory for days.
#define SD_AGGREGATOR_MAX_WAIT_MS 3600000
//  Shortest interval between two purges of the finished table keys.
#define SD_AGGREGATOR_PURGE_MIN_MS 1000

struct _sd_aggregator {
    char *bus_subscribe;
    char *bus_publish;
    int shards;
    int shard;
    int64_t finished_ttl_ms;
    sd_proto_limits limits;
    zsock_t *subscriber;
    zsock_t *publisher;
    zloop_t *loop;                  //  set by sd_aggregator_attach
    int purge_timer;
    zhashx_t *tables;               //  table key -> s_table, open tables
    zhashx_t *finished;             //  table key -> int64_t expiry (ms), published tables
    size_t dropped;                 //  malformed bus messages so far
};

//  One open table.
typedef struct {
    sd_aggregator *owner;
    char *key;
    sd_normalize *state;
    int timer;                      //  deadline timer id, -1 when none
} s_table;

//  ---------------------------------------------------------------------
//  Table bookkeeping

//  Returns a new key naming (request_id, table_id) without ambiguity: the
//  request id's length, ':', then both ids.
static char *s_table_key(const sd_table_raw *part)
{
    const char *request_id = part->request_id ? part->request_id : "";
    const char *table_id = part->table_id ? part->table_id : "";
    size_t size = 24 + strlen(request_id) + strlen(table_id);
    char *key = malloc(size);
    if (key)
        snprintf(key, size, "%zu:%s%s", strlen(request_id), request_id, table_id);
    return key;
}

static void s_table_destroy(s_table **table_p)
{
    if (!table_p || !*table_p)
        return;
    s_table *table = *table_p;
    if (table->timer >= 0 && table->owner->loop)
        zloop_timer_end(table->owner->loop, table->timer);
    sd_normalize_destroy(&table->state);
    free(table->key);
    free(table);
    *table_p = NULL;
}

static void s_table_destructor(void **item)
{
    s_table_destroy((s_table **)item);
}

static void s_free_destructor(void **item)
{
    free(*item);
    *item = NULL;
}

//  Moves a table from the open ones to the finished ones, which frees it.
static void s_forget(sd_aggregator *self, s_table *table)
{
    int64_t *expiry = malloc(sizeof *expiry);
    if (expiry) {
        *expiry = sd_clock_ms() + self->finished_ttl_ms;
        zhashx_update(self->finished, table->key, expiry);
    }
    else
        sd_error("out of memory: late parts of this table will start it again table_key=%s",
                 table->key);
    zhashx_delete(self->tables, table->key);
}

//  ---------------------------------------------------------------------
//  Publishing

static void s_log_published(const sd_table_normalized *table, size_t received,
                            int64_t expected)
{
    if (table->missing_count == 0)
        sd_info("table published rows=%zu parts=%zu/%" PRId64 " request=%s table=%s reporter=%s",
                table->data.row_count, received, expected, table->request_id, table->table_id,
                table->reporter_id);
    else
        sd_warning("table published with missing parts missing=%zu rows=%zu parts=%zu/%" PRId64
                   " request=%s table=%s reporter=%s",
                   table->missing_count, table->data.row_count, received, expected,
                   table->request_id, table->table_id, table->reporter_id);
}

//  Encodes msg and sends it as [topic][body]. Returns 0 or -1 (logged).
static int s_send_table(sd_aggregator *self, const sd_msg *msg)
{
    const sd_table_normalized *table = &msg->as.table_normalized;
    uint8_t *body = NULL;
    size_t size = 0;
    sd_proto_error error;
    if (sd_msg_encode(msg, &body, &size, &error) != 0) {
        sd_error("table not published, encoding failed: %s: %s request=%s table=%s", error.field,
                 error.text, table->request_id, table->table_id);
        return -1;
    }

    size_t topic_size = strlen(table->reporter_id) + 16;
    char *topic = malloc(topic_size);
    zmsg_t *frames = zmsg_new();
    int rc = topic && frames ? 0 : -1;
    if (rc == 0) {
        sd_bus_table_topic(topic, topic_size, table->reporter_id);
        rc = zmsg_addstr(frames, topic) == 0 && zmsg_addmem(frames, body, size) == 0 ? 0 : -1;
    }
    if (rc == 0)
        rc = sd_mdp_send(self->publisher, &frames);
    if (rc != 0)
        sd_error("table not published, sending failed: %s request=%s table=%s",
                 zmq_strerror(errno), table->request_id, table->table_id);
    zmsg_destroy(&frames);
    free(topic);
    free(body);
    return rc;
}

//  Publishes the table as merged so far, then moves it to the finished ones.
static void s_publish(sd_aggregator *self, s_table *table)
{
    sd_msg *msg = sd_normalize_finish(table->state);
    if (!msg)
        sd_error("out of memory: table dropped table_key=%s", table->key);
    else if (s_send_table(self, msg) == 0)
        s_log_published(&msg->as.table_normalized, sd_normalize_received(table->state),
                        sd_normalize_expected(table->state));
    sd_msg_destroy(&msg);
    s_forget(self, table);
}

static int s_on_deadline(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_table *table = arg;
    table->timer = -1;
    s_publish(table->owner, table);
    return 0;
}

//  ---------------------------------------------------------------------
//  Receiving parts

//  Opens the table of a first part and starts its deadline timer.
static s_table *s_table_open(sd_aggregator *self, char *key, const sd_table_raw *part)
{
    s_table *table = calloc(1, sizeof *table);
    if (!table) {
        free(key);
        return NULL;
    }
    table->owner = self;
    table->key = key;
    table->timer = -1;
    table->state = sd_normalize_new(part);

    int64_t wait_ms = part->deadline_ms - sd_clock_ms();
    if (wait_ms < 1)
        wait_ms = 1;
    if (wait_ms > SD_AGGREGATOR_MAX_WAIT_MS)
        wait_ms = SD_AGGREGATOR_MAX_WAIT_MS;
    if (table->state)
        table->timer = zloop_timer(self->loop, (size_t)wait_ms, 1, s_on_deadline, table);
    if (table->timer < 0 || zhashx_insert(self->tables, key, table) != 0) {
        s_table_destroy(&table);
        return NULL;
    }
    sd_debug("table opened wait_ms=%" PRId64 " expected_parts=%" PRId64 " request=%s table=%s",
             wait_ms, part->expected_parts, part->request_id, part->table_id);
    return table;
}

//  Returns the open table of the part, opening it for a first part (then
//  *opened is true), or NULL when the table was published already (or
//  memory ran out).
static s_table *s_table_for(sd_aggregator *self, const sd_table_raw *part, bool *opened)
{
    *opened = false;
    char *key = s_table_key(part);
    if (!key) {
        sd_error("out of memory: part dropped part=%s request=%s table=%s", part->part_id,
                 part->request_id, part->table_id);
        return NULL;
    }
    s_table *table = zhashx_lookup(self->tables, key);
    if (table) {
        free(key);
        return table;
    }
    if (zhashx_lookup(self->finished, key)) {
        sd_debug("late part dropped, its table was published part=%s request=%s table=%s",
                 part->part_id, part->request_id, part->table_id);
        free(key);
        return NULL;
    }
    table = s_table_open(self, key, part);
    *opened = table != NULL;
    if (!table)
        sd_error("out of memory: part dropped part=%s request=%s table=%s", part->part_id,
                 part->request_id, part->table_id);
    return table;
}

//  One table.raw part being decoded from a bus message. The rows go to
//  the table's merge state as they are read, and are merged only once the
//  whole body proved valid. The ids are copied for the log lines, which
//  come after the decoded header is gone.
typedef struct {
    sd_aggregator *owner;
    s_table *table;                 //  the part's table once its header is read
    bool opened;                    //  this part opened the table
    bool skipped;                   //  dropped on purpose (late or duplicate part)
    bool failed;                    //  out of memory while merging
    size_t rows;
    char *part_id;
    char *site;
    char *request_id;
    char *table_id;
    char *error;                    //  "none" when the part carries no error
} s_receipt;

static void s_receipt_clear(s_receipt *receipt)
{
    free(receipt->part_id);
    free(receipt->site);
    free(receipt->request_id);
    free(receipt->table_id);
    free(receipt->error);
}

static int s_receipt_copy(s_receipt *receipt, const sd_table_raw *part, size_t rows)
{
    receipt->rows = rows;
    receipt->part_id = strdup(part->part_id);
    receipt->site = strdup(part->site);
    receipt->request_id = strdup(part->request_id);
    receipt->table_id = strdup(part->table_id);
    receipt->error = strdup(part->error ? part->error : "none");
    return receipt->part_id && receipt->site && receipt->request_id && receipt->table_id
                   && receipt->error
               ? 0
               : -1;
}

//  Finds or opens the part's table and starts the part there. Returns 0
//  to read the rows, or -1 to stop.
static int s_on_part_header(void *arg, const sd_table_raw *part, size_t rows)
{
    s_receipt *receipt = arg;
    if (s_receipt_copy(receipt, part, rows) != 0) {
        sd_error("out of memory: part dropped part=%s request=%s table=%s", part->part_id,
                 part->request_id, part->table_id);
        receipt->skipped = true;
        return -1;
    }
    receipt->table = s_table_for(receipt->owner, part, &receipt->opened);
    if (!receipt->table) {
        receipt->skipped = true;
        return -1;
    }
    switch (sd_normalize_begin(receipt->table->state, part, rows)) {
    case SD_NORMALIZE_ADDED:
        return 0;
    case SD_NORMALIZE_DUPLICATE:
        sd_debug("duplicate part ignored part=%s request=%s table=%s", part->part_id,
                 part->request_id, part->table_id);
        receipt->skipped = true;
        return -1;
    default:
        receipt->failed = true;
        return -1;
    }
}

static int s_on_part_row(void *arg, const sd_value *cells, size_t column_count)
{
    (void)column_count;
    s_receipt *receipt = arg;
    if (sd_normalize_stage_row(receipt->table->state, cells) == 0)
        return 0;
    receipt->failed = true;
    return -1;
}

//  Merges a part whose body decoded, and publishes its table when it was
//  the last part expected.
static void s_commit_part(sd_aggregator *self, s_receipt *receipt)
{
    s_table *table = receipt->table;
    char reason[256] = "";
    switch (sd_normalize_commit(table->state, reason, sizeof reason)) {
    case SD_NORMALIZE_ADDED:
        sd_debug("part received rows=%zu error=%s parts=%zu/%" PRId64 " part=%s site=%s "
                 "request=%s table=%s",
                 receipt->rows, receipt->error, sd_normalize_received(table->state),
                 sd_normalize_expected(table->state), receipt->part_id, receipt->site,
                 receipt->request_id, receipt->table_id);
        break;
    case SD_NORMALIZE_REJECTED:
        sd_warning("part rejected, listed as missing: %s part=%s site=%s request=%s table=%s",
                   reason, receipt->part_id, receipt->site, receipt->request_id,
                   receipt->table_id);
        break;
    default:
        receipt->failed = true;
        return;
    }
    if (sd_normalize_complete(table->state))
        s_publish(self, table);
}

//  Logs a bus message that is dropped as malformed, with its topic.
static void s_drop(sd_aggregator *self, zmsg_t *frames, const char *reason)
{
    zframe_t *topic = zmsg_first(frames);
    const char *topic_text = "";
    size_t topic_size = 0;
    if (topic) {
        topic_text = (const char *)zframe_data(topic);
        topic_size = zframe_size(topic);
    }
    if (topic_size > 64)
        topic_size = 64;
    self->dropped++;
    sd_warning("malformed bus message dropped: %s topic=%.*s dropped=%zu", reason,
               (int)topic_size, topic_text, self->dropped);
}

//  Undoes what a part that turned out malformed started: its rows, and
//  its table when the part opened it.
static void s_discard_part(sd_aggregator *self, s_receipt *receipt)
{
    if (!receipt->table)
        return;
    sd_normalize_abort(receipt->table->state);
    if (receipt->opened)
        zhashx_delete(self->tables, receipt->table->key);
}

//  Decodes a [topic][body] bus message as a table.raw part and merges it.
//  A malformed message is logged and dropped.
static void s_receive(sd_aggregator *self, zmsg_t *frames)
{
    char reason[sizeof(sd_proto_error) + 64];
    if (zmsg_size(frames) != 2) {
        snprintf(reason, sizeof reason, "got %zu frames, expected 2 (topic, body)",
                 zmsg_size(frames));
        s_drop(self, frames, reason);
        return;
    }
    zframe_t *body = zmsg_last(frames);
    sd_proto_error error = {"", ""};
    s_receipt receipt = {.owner = self};
    int rc = sd_table_raw_decode_rows(zframe_data(body), zframe_size(body), &self->limits,
                                      s_on_part_header, s_on_part_row, &receipt, &error);
    if (rc == 0)
        s_commit_part(self, &receipt);
    if (receipt.failed) {
        sd_error("out of memory merging a part: table dropped part=%s request=%s table=%s",
                 receipt.part_id, receipt.request_id, receipt.table_id);
        sd_normalize_abort(receipt.table->state);
        s_forget(self, receipt.table);
    }
    else if (rc != 0 && !receipt.skipped) {
        s_discard_part(self, &receipt);
        snprintf(reason, sizeof reason, "invalid body: %s%s%s", error.field,
                 error.field[0] ? ": " : "", error.text);
        s_drop(self, frames, reason);
    }
    s_receipt_clear(&receipt);
}

static int s_on_bus_message(zloop_t *loop, zsock_t *reader, void *arg)
{
    (void)loop;
    sd_aggregator *self = arg;
    zmsg_t *frames = zmsg_recv(reader);
    if (!frames)
        return 0;
    s_receive(self, frames);
    zmsg_destroy(&frames);
    return 0;
}

//  Forgets the keys of tables published more than finished_ttl_ms ago.
static int s_on_purge(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sd_aggregator *self = arg;
    int64_t now = sd_clock_ms();
    zlistx_t *expired = zlistx_new();
    if (!expired)
        return 0;
    for (int64_t *expiry = zhashx_first(self->finished); expiry;
         expiry = zhashx_next(self->finished)) {
        if (*expiry <= now)
            zlistx_add_end(expired, (void *)zhashx_cursor(self->finished));
    }
    for (void *key = zlistx_first(expired); key; key = zlistx_next(expired))
        zhashx_delete(self->finished, key);
    zlistx_destroy(&expired);
    return 0;
}

//  ---------------------------------------------------------------------
//  Life cycle

//  Subscribes to the raw topic of every shard served.
static int s_subscribe(sd_aggregator *self)
{
    int first = self->shard >= 0 ? self->shard : 0;
    int last = self->shard >= 0 ? self->shard : self->shards - 1;
    for (int shard = first; shard <= last; shard++) {
        char topic[32];
        sd_bus_raw_topic(topic, sizeof topic, (unsigned)shard);
        zsock_set_subscribe(self->subscriber, topic);
        sd_info("subscribed topic=%s endpoint=%s", topic, self->bus_subscribe);
    }
    return 0;
}

static int s_open_sockets(sd_aggregator *self, const sd_aggregator_options *options)
{
    //  Without a broker section the sockets are plain but keep the size limit.
    sd_config_broker plain = {.max_message_bytes = options->max_message_bytes};
    const sd_config_broker *broker = options->broker ? options->broker : &plain;
    char error[700];
    self->subscriber = sd_bus_socket_new(ZMQ_SUB, self->bus_subscribe, broker, error,
                                         sizeof error);
    if (self->subscriber)
        self->publisher = sd_bus_socket_new(ZMQ_PUB, self->bus_publish, broker, error,
                                            sizeof error);
    if (!self->subscriber || !self->publisher) {
        sd_error("cannot open the bus sockets: %s", error);
        return -1;
    }
    return s_subscribe(self);
}

//  Checks the options. Returns 0, or -1 with an error logged.
static int s_check_options(const sd_aggregator_options *options)
{
    int shards = options->shards < 1 ? 1 : options->shards;
    if (!options->bus_subscribe || !options->bus_publish) {
        sd_error("the bus endpoints are missing: set broker.bus_subscribe and "
                 "broker.bus_publish");
        return -1;
    }
    if (options->shard < -1 || options->shard >= shards) {
        sd_error("invalid shard %d: expected 0 to %d (aggregator.shards is %d)", options->shard,
                 shards - 1, shards);
        return -1;
    }
    return 0;
}

sd_aggregator *sd_aggregator_new(const sd_aggregator_options *options)
{
    if (s_check_options(options) != 0)
        return NULL;
    sd_aggregator *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->shards = options->shards < 1 ? 1 : options->shards;
    self->shard = options->shard;
    self->finished_ttl_ms = options->finished_ttl_ms > 0 ? options->finished_ttl_ms
                                                         : SD_AGGREGATOR_FINISHED_TTL_MS;
    self->purge_timer = -1;
    sd_proto_limits_default(&self->limits);
    if (options->max_message_bytes > 0)
        self->limits.max_message_bytes = (size_t)options->max_message_bytes;
    self->bus_subscribe = strdup(options->bus_subscribe);
    self->bus_publish = strdup(options->bus_publish);
    self->tables = zhashx_new();
    self->finished = zhashx_new();
    if (!self->bus_subscribe || !self->bus_publish || !self->tables || !self->finished) {
        sd_error("out of memory creating the aggregator");
        sd_aggregator_destroy(&self);
        return NULL;
    }
    zhashx_set_destructor(self->tables, s_table_destructor);
    zhashx_set_destructor(self->finished, s_free_destructor);
    if (s_open_sockets(self, options) != 0)
        sd_aggregator_destroy(&self);
    return self;
}

int sd_aggregator_attach(sd_aggregator *self, zloop_t *loop)
{
    size_t purge_ms = (size_t)(self->finished_ttl_ms / 10);
    if (purge_ms < SD_AGGREGATOR_PURGE_MIN_MS)
        purge_ms = SD_AGGREGATOR_PURGE_MIN_MS;
    self->loop = loop;
    self->purge_timer = zloop_timer(loop, purge_ms, 0, s_on_purge, self);
    if (self->purge_timer < 0 || zloop_reader(loop, self->subscriber, s_on_bus_message, self) != 0) {
        sd_error("cannot register the aggregator on the event loop");
        return -1;
    }
    zloop_reader_set_tolerant(loop, self->subscriber);
    return 0;
}

void sd_aggregator_destroy(sd_aggregator **self_p)
{
    if (!self_p || !*self_p)
        return;
    sd_aggregator *self = *self_p;
    if (self->tables && zhashx_size(self->tables) > 0)
        sd_warning("stopping with open tables, they are not published tables=%zu",
                   zhashx_size(self->tables));
    zhashx_destroy(&self->tables);
    zhashx_destroy(&self->finished);
    if (self->loop) {
        if (self->purge_timer >= 0)
            zloop_timer_end(self->loop, self->purge_timer);
        if (self->subscriber)
            zloop_reader_end(self->loop, self->subscriber);
    }
    zsock_destroy(&self->subscriber);
    zsock_destroy(&self->publisher);
    free(self->bus_subscribe);
    free(self->bus_publish);
    free(self);
    *self_p = NULL;
}

//  Ends the actor's loop on "$TERM" from zactor_destroy.
static int s_on_pipe(zloop_t *loop, zsock_t *pipe, void *arg)
{
    (void)loop;
    (void)arg;
    char *command = zstr_recv(pipe);
    bool terminate = !command || streq(command, "$TERM");
    zstr_free(&command);
    return terminate ? -1 : 0;
}

void sd_aggregator_actor(zsock_t *pipe, void *options)
{
    sd_aggregator *self = sd_aggregator_new(options);
    zloop_t *loop = self ? zloop_new() : NULL;
    int rc = loop && sd_aggregator_attach(self, loop) == 0
                     && zloop_reader(loop, pipe, s_on_pipe, NULL) == 0
                 ? 0
                 : -1;
    zsock_signal(pipe, rc == 0 ? 0 : 1);
    if (rc == 0)
        zloop_start(loop);
    sd_aggregator_destroy(&self);
    zloop_destroy(&loop);
}
