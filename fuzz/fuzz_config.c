/*  fuzz_config: the config loader on any file content.

    The input is written to a scratch file and loaded with sd_config_load,
    then checked with sd_config_check. The two must agree: a file loads
    exactly when the check finds no error. Every error must name the file
    and carry a text.
*/
#include <stdio.h>
#include <string.h>

#include "fuzz_util.h"
#include "sd_config.h"

static void s_count_error(const sd_config_error *err, void *arg)
{
    int *count = arg;
    if (err->path[0] == '\0' || err->text[0] == '\0')
        fuzz_fail("config error without a file name or a text");
    char line[1400];
    sd_config_error_line(err, line, sizeof line);
    (*count)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet_logs();
    const char *path = fuzz_scratch_file(data, size);

    sd_config_error err;
    memset(&err, 0, sizeof err);
    sd_config *config = sd_config_load(path, &err);
    if (!config && err.text[0] == '\0')
        fuzz_fail("sd_config_load failed without an error text");

    int reported = 0;
    int errors = sd_config_check(path, s_count_error, &reported);
    if ((config != NULL) != (errors == 0))
        fuzz_fail("sd_config_load %s but sd_config_check found %d errors",
                  config ? "succeeded" : "failed", errors);
    if (errors > 0 && reported != errors)
        fuzz_fail("sd_config_check returned %d errors but reported %d", errors, reported);
    if (config) {
        sd_config_find_site(config, "alpha");
        sd_config_find_channel(config, "First");
    }
    sd_config_destroy(&config);
    return 0;
}
