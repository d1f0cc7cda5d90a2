/*  fuzz_sim_csv: the simulator's CSV reader on any file content.

    The input is written to a scratch file and read record by record until
    the end or the first malformed record. Every record must have 1 to
    SIM_CSV_MAX_FIELDS fields, each NUL-terminated at its length, and line
    numbers must not go down. The reader must stop within one record per
    input byte (plus one), so a loop that makes no progress is caught.
*/
#include <string.h>

#include "fuzz_util.h"
#include "sim_csv.h"

static void s_check_record(const sim_csv_field *fields, int count)
{
    if (count < 1 || count > SIM_CSV_MAX_FIELDS)
        fuzz_fail("sim_csv_next returned %d fields", count);
    for (int i = 0; i < count; i++) {
        if (!fields[i].text || fields[i].text[fields[i].length] != '\0')
            fuzz_fail("field %d is not NUL-terminated at its length %zu", i, fields[i].length);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_scratch_file(data, size);
    char error[512];
    sim_csv *csv = sim_csv_open(path, error, sizeof error);
    if (!csv)
        fuzz_fail("sim_csv_open failed on a readable file: %s", error);

    sim_csv_field fields[SIM_CSV_MAX_FIELDS];
    size_t records = 0;
    size_t last_line = 0;
    int count;
    while ((count = sim_csv_next(csv, fields)) > 0) {
        s_check_record(fields, count);
        if (sim_csv_line(csv) < last_line)
            fuzz_fail("record line went back from %zu to %zu", last_line, sim_csv_line(csv));
        last_line = sim_csv_line(csv);
        if (++records > size + 1)
            fuzz_fail("more records than input bytes: the reader makes no progress");
    }
    if (count < 0 && strcmp(sim_csv_error(csv), "no error") == 0)
        fuzz_fail("malformed record without an error text");
    sim_csv_destroy(&csv);
    return 0;
}
