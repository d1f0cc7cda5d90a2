/*  Tests of sd_log: the level filter, the line format, and escaping of
    control characters so that a value cannot forge a second line.  */
#include "sd_log.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char path[64];
    int saved_stderr;
    char output[8192];
} capture;

//  Sends stderr to a temporary file until s_capture_end.
static void s_capture_begin(capture *self)
{
    snprintf(self->path, sizeof self->path, "/tmp/sd-log-test-XXXXXX");
    int fd = mkstemp(self->path);
    assert_true(fd >= 0);
    fflush(stderr);
    self->saved_stderr = dup(STDERR_FILENO);
    assert_true(self->saved_stderr >= 0);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    close(fd);
}

//  Restores stderr and reads what was written into self->output.
static void s_capture_end(capture *self)
{
    fflush(stderr);
    assert_int_equal(dup2(self->saved_stderr, STDERR_FILENO), STDERR_FILENO);
    close(self->saved_stderr);
    FILE *file = fopen(self->path, "r");
    assert_non_null(file);
    size_t size = fread(self->output, 1, sizeof self->output - 1, file);
    self->output[size] = '\0';
    fclose(file);
    unlink(self->path);
}

static size_t s_count_lines(const char *text)
{
    size_t lines = 0;
    for (; *text; text++)
        lines += *text == '\n';
    return lines;
}

static void test_level_filter(void **state)
{
    (void)state;
    sd_log_open("logtest", SD_LOG_WARNING, false);
    assert_false(sd_log_enabled(SD_LOG_DEBUG));
    assert_false(sd_log_enabled(SD_LOG_INFO));
    assert_true(sd_log_enabled(SD_LOG_WARNING));
    assert_true(sd_log_enabled(SD_LOG_ERROR));

    capture out;
    s_capture_begin(&out);
    sd_debug("debug line");
    sd_info("info line");
    sd_warning("warning line");
    sd_error("error line");
    s_capture_end(&out);

    assert_null(strstr(out.output, "debug line"));
    assert_null(strstr(out.output, "info line"));
    assert_non_null(strstr(out.output, "warning line"));
    assert_non_null(strstr(out.output, "error line"));
    assert_int_equal(s_count_lines(out.output), 2);
}

static void test_line_format(void **state)
{
    (void)state;
    sd_log_open("logtest", SD_LOG_DEBUG, false);
    capture out;
    s_capture_begin(&out);
    sd_info("started request=r1");
    s_capture_end(&out);

    char expected[64];
    snprintf(expected, sizeof expected, " info logtest[%ld]: started request=r1\n", (long)getpid());
    assert_non_null(strstr(out.output, expected));
    //  The line starts with a UTC time such as 2026-12-01T10:00:00.000Z.
    assert_int_equal(out.output[4], '-');
    assert_int_equal(out.output[10], 'T');
    assert_int_equal(out.output[23], 'Z');
}

static void test_control_characters_escaped(void **state)
{
    (void)state;
    sd_log_open("logtest", SD_LOG_INFO, false);
    const char *peer_value = "a\n2026-01-01T00:00:00.000Z error forged\rb\tc\x7f"
                             "d\x1b";
    capture out;
    s_capture_begin(&out);
    sd_warning("bad frame site=%s", peer_value);
    s_capture_end(&out);

    assert_int_equal(s_count_lines(out.output), 1);
    assert_null(strchr(out.output, '\r'));
    assert_null(strchr(out.output, '\t'));
    assert_non_null(strstr(out.output, "site=a\\x0a2026-01-01T00:00:00.000Z error forged"
                                       "\\x0db\\x09c\\x7fd\\x1b\n"));
}

static void test_utf8_kept(void **state)
{
    (void)state;
    sd_log_open("logtest", SD_LOG_INFO, false);
    capture out;
    s_capture_begin(&out);
    sd_info("title=%s", "caf\xc3\xa9 \xe6\x97\xa5");
    s_capture_end(&out);
    assert_non_null(strstr(out.output, "title=caf\xc3\xa9 \xe6\x97\xa5\n"));
}

static void test_long_message_one_line(void **state)
{
    (void)state;
    sd_log_open("logtest", SD_LOG_INFO, false);
    char *text = malloc(10000);
    assert_non_null(text);
    for (size_t i = 0; i < 9999; i++)
        text[i] = i % 100 == 99 ? '\n' : 'x';
    text[9999] = '\0';
    capture out;
    s_capture_begin(&out);
    sd_info("%s", text);
    s_capture_end(&out);
    free(text);
    assert_int_equal(s_count_lines(out.output), 1);
}

static void test_level_names(void **state)
{
    (void)state;
    sd_log_level level = SD_LOG_ERROR;
    assert_int_equal(sd_log_level_parse("debug", &level), 0);
    assert_int_equal(level, SD_LOG_DEBUG);
    assert_int_equal(sd_log_level_parse("WARNING", &level), 0);
    assert_int_equal(level, SD_LOG_WARNING);
    assert_int_equal(sd_log_level_parse("verbose", &level), -1);
    assert_int_equal(level, SD_LOG_WARNING);
    assert_int_equal(sd_log_level_parse(NULL, &level), -1);
    assert_string_equal(sd_log_level_name(SD_LOG_INFO), "info");
    assert_string_equal(sd_log_level_name((sd_log_level)42), "unknown");
}

static void test_configure_by_name(void **state)
{
    (void)state;
    assert_int_equal(sd_log_configure("logtest", "error", false), 0);
    assert_false(sd_log_enabled(SD_LOG_WARNING));
    assert_true(sd_log_enabled(SD_LOG_ERROR));

    assert_int_equal(sd_log_configure("other", "loud", false), -1);
    assert_false(sd_log_enabled(SD_LOG_WARNING));

    assert_int_equal(sd_log_configure("logtest", "Debug", false), 0);
    assert_true(sd_log_enabled(SD_LOG_DEBUG));
    capture out;
    s_capture_begin(&out);
    sd_debug("visible");
    s_capture_end(&out);
    assert_non_null(strstr(out.output, " debug logtest["));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_filter),
        cmocka_unit_test(test_line_format),
        cmocka_unit_test(test_control_characters_escaped),
        cmocka_unit_test(test_utf8_kept),
        cmocka_unit_test(test_long_message_one_line),
        cmocka_unit_test(test_level_names),
        cmocka_unit_test(test_configure_by_name),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    sd_log_close();
    return failed;
}
