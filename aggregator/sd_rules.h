/*  sd_rules: the post-processing rules a table spec names.

    A rule is a name with string arguments (sd_rule). Every column argument
    must name one of spec.keys ("site" included); a metric argument must
    name one of spec.sum. A rule that cannot be applied (unknown name,
    wrong arguments, a regular expression that does not compile) is left
    out, and the table gets a warning saying so.

    Rules run in this fixed order, whatever the order of spec.rules; rules
    with the same name run in spec order:

      1. path_blacklist   COLUMN REGEX...   drops a row whose value matches
                          one of the POSIX extended regular expressions
                          (searched anywhere in the value unless anchored).
      2. value_blacklist  COLUMN VALUE...   drops a row whose value is one
                          of the values.
      3. map_values       COLUMN FROM TO [FROM TO]...  replaces the value
                          FROM with TO, and drops a row whose value has no
                          pair. Pairs are separate arguments, so values may
                          contain any character; a later pair for the same
                          FROM replaces an earlier one.
      4. rest_of_world    COLUMN KEPT...    replaces every value that is not
                          one of KEPT ("(not set)" included) with
                          "Rest of World", so those rows merge.
      5. strip_query      COLUMN            cuts the value at its first '?'.
      6. decode_entities  COLUMN            decodes HTML character
                          references (see sd_entities.h).
      7. amp_title        PATH TITLE        appends " (AMP)" to the title
                          of a row whose path contains "/amp/". The path is
                          kept, so an AMP page stays a row of its own next
                          to its non-AMP page, marked by its title.
      8. top_title        PATH TITLE METRIC the title stops being part of
                          the merge key: rows merge on the other keys, and
                          each merged row shows the title with the largest
                          sum of METRIC in the current period (ties: the
                          lowest title in byte order). PATH must be another
                          key.
      9. share_matrix     ROW COLUMN METRIC pivots the table after merging:
                          see sd_matrix.h.

    Rules 1 to 7 rewrite or drop raw rows before they are merged, so they
    read the values as the API sent them. The path blacklist matches the
    path with its query string, and the value blacklist and the map compare
    the raw session source.
    Values that are not strings never match a blacklist or a map entry,
    stay as they are for strip_query, decode_entities and amp_title, and
    become "Rest of World" under rest_of_world.
*/
#ifndef SD_RULES_H
#define SD_RULES_H

#include "sd_compare.h"
#include "sd_proto.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct _sd_rules sd_rules;

//  The label rows merged by rest_of_world get.
#define SD_RULES_REST_OF_WORLD "Rest of World"

//  Compiles the rules of spec, which is borrowed and must outlive the
//  result. For each rule left out, one line is appended to warnings and
//  logged with table_id. Returns NULL only when out of memory.
sd_rules *sd_rules_new(const sd_table_spec *spec, const char *table_id, sd_strings *warnings);

void sd_rules_destroy(sd_rules **self_p);

//  Applies rules 1 to 7 to the key cells of one raw row (one cell per
//  spec key, in key order). Cells are rewritten in place: a rewritten
//  string points into the original string, into a spec argument or into a
//  buffer of the rules (valid until the next call), and is not always
//  NUL-terminated at its length. The strings the cells point to are never
//  written. Returns 1 to keep the row, 0 to drop it, -1 when out of memory.
int sd_rules_apply_row(sd_rules *self, sd_value *keys);

//  Returns true when the string of cell, as sd_rules_apply_row left it,
//  is held in a buffer of the rules, which the next call reuses: a caller
//  that keeps the cell longer copies the string.
bool sd_rules_rewrote(const sd_rules *self, const sd_value *cell);

//  Returns the key that top_title turns into an attribute, or -1 when the
//  spec has no top_title rule. That key is not part of the merge key.
int sd_rules_attribute_key(const sd_rules *self);

//  Returns the spec.sum index of top_title's metric (valid when
//  sd_rules_attribute_key is not -1).
size_t sd_rules_attribute_metric(const sd_rules *self);

//  Records that merged row `row` (whose key hashes to row_hash, and whose
//  own title cell is stored) had the title cell in a current-period raw
//  row, with that row's metric value. Returns 0 or -1.
int sd_rules_observe_title(sd_rules *self, size_t row, uint64_t row_hash, const sd_value *title,
                           sd_number value, const sd_value *stored);

//  Points the attribute key cell of every merged row that was seen in the
//  current period at its chosen title, owned or borrowed by the rules (see
//  sd_titles_apply). Returns 0 or -1.
int sd_rules_resolve_titles(const sd_rules *self, sd_merged_row *rows, size_t row_count);

//  Returns true when the spec has a share_matrix rule, with its COLUMN key
//  index and METRIC sum index.
bool sd_rules_matrix(const sd_rules *self, size_t *column_key, size_t *metric);

#endif
