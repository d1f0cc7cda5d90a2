/*  sd_normalize: merges the raw parts of one table into its normalized form.

    A table is fed part by part (one site and one period each) as the parts
    arrive. Each part is merged at once into a hash table of rows keyed on
    spec.keys, where the key "site" is the part's site field. Per period,
    the `sum` metrics are added over parts and rows (integers stay int64
    unless a value is a float or the sum would overflow). sd_normalize_finish
    then computes the derived metrics per period from those sums, adds the
    previous and yearly comparison columns of the shared table format, sorts,
    limits, and lists the missing parts. No sockets and no clock: the caller
    decides when a table is finished.

    Rows are the keys present in the current period. Totals and "share"
    column totals are computed over those rows before the limit, and ratios
    in the totals come from the summed totals, not from averaging rows.

    The spec's rules (sd_rules.h) are compiled by sd_normalize_new. Most of
    them rewrite or drop raw rows before they are merged; top_title and
    share_matrix act when the table is finished. A rule that is unknown or
    has invalid arguments is not applied, and the table carries a warning
    naming it.
*/
#ifndef SD_NORMALIZE_H
#define SD_NORMALIZE_H

#include "sd_proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _sd_normalize sd_normalize;

typedef enum {
    SD_NORMALIZE_ADDED,             //  received; its rows, if any, were merged
    SD_NORMALIZE_DUPLICATE,         //  a part with this part_id came before, so this one is ignored
    SD_NORMALIZE_REJECTED,          //  received, but it contradicts its spec: listed as missing
    SD_NORMALIZE_FAILED,            //  out of memory: rows may be half merged, drop the table
} sd_normalize_result;

//  Creates the state of one table from its first part: the ids, spec,
//  expected part count and deadline are copied from it, and later parts'
//  copies of them are not read. The part itself is not merged: pass it to
//  sd_normalize_add. Returns NULL when out of memory.
sd_normalize *sd_normalize_new(const sd_table_raw *first);

void sd_normalize_destroy(sd_normalize **self_p);

//  Merges one part (borrowed, and not referenced afterwards). Some parts
//  count as received but add no rows: one that carries an error, and one
//  that lacks a spec column or contains a metric cell that is not a finite
//  number. Such a part is listed in the table's missing parts with the
//  error. On SD_NORMALIZE_REJECTED, reason (when not NULL) receives one
//  line saying why.
sd_normalize_result sd_normalize_add(sd_normalize *self, const sd_table_raw *part,
                                     char *reason, size_t reason_size);

//  The same in steps, for a part whose rows arrive one by one (see
//  sd_table_raw_decode_rows). sd_normalize_begin reads the part's header,
//  borrowed for the call: its data has the columns, and row_count is the
//  number of rows that follow. It returns SD_NORMALIZE_ADDED to go on, or
//  SD_NORMALIZE_DUPLICATE or SD_NORMALIZE_FAILED, after which the part is
//  over. Each row then goes to sd_normalize_stage_row (cells as wide as
//  the part's columns), which returns 0, or -1 when out of memory. The
//  strings of the cells must stay valid until the part is over. Then
//  sd_normalize_commit merges the part and returns what sd_normalize_add
//  would, or sd_normalize_abort discards it (a part that turned out to be
//  malformed) as if it never came. A new sd_normalize_begin also discards
//  a part left open.
sd_normalize_result sd_normalize_begin(sd_normalize *self, const sd_table_raw *part,
                                       size_t row_count);
int sd_normalize_stage_row(sd_normalize *self, const sd_value *cells);
sd_normalize_result sd_normalize_commit(sd_normalize *self, char *reason, size_t reason_size);
void sd_normalize_abort(sd_normalize *self);

//  Returns the number of distinct parts received, failed ones included.
size_t sd_normalize_received(const sd_normalize *self);

//  Returns the number of parts the table expects (from its first part).
int64_t sd_normalize_expected(const sd_normalize *self);

//  Returns true once every expected part was received.
bool sd_normalize_complete(const sd_normalize *self);

//  Returns the deadline of the table, in milliseconds since the Unix epoch.
int64_t sd_normalize_deadline_ms(const sd_normalize *self);

//  Builds the table.normalized message from the parts received so far.
//  Parts still expected are listed as missing. For each site that sent a
//  part, these are the period labels of the table (current and
//  spec.compare) that the site did not send. Parts still unaccounted for
//  come from sites that sent nothing, so each gets an entry with empty site
//  and period, and a warning gives their count. The state is left as it
//  was, so it may be called again. Returns a new message (the caller
//  destroys it), or NULL when out of memory.
sd_msg *sd_normalize_finish(sd_normalize *self);

#endif
