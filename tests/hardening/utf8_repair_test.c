/*  sd_utf8_repair: bodies with invalid UTF-8 or rejected JSON escapes come
    out parseable, with one U+FFFD per maximal invalid subpart, and valid
    bodies are left alone.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sd_utf8_repair.h"

#define FFFD "\xEF\xBF\xBD"

//  Repairs input and checks the count and the repaired bytes.
static void s_expect(const char *input, size_t size, int count, const char *expected)
{
    char *repaired = NULL;
    size_t repaired_size = 0;
    assert_int_equal(sd_utf8_repair_json(input, size, &repaired, &repaired_size), count);
    if (count == 0) {
        assert_null(repaired);
        return;
    }
    assert_non_null(repaired);
    assert_int_equal(repaired_size, strlen(expected));
    assert_memory_equal(repaired, expected, repaired_size);
    free(repaired);
}

static void repair_leaves_valid_text(void **state)
{
    (void)state;
    const char *text = "{\"t\":\"Caf\xC3\xA9 \xF0\x9F\x98\x80 \\u00e9 \\ud83d\\ude00 \\\\u0000\"}";
    s_expect(text, strlen(text), 0, NULL);
}

//  The cases of Python's bytes.decode("utf-8", "replace"), worked out by
//  hand: a lone continuation byte, an overlong '<', an encoded surrogate,
//  a sequence cut by the end of a string, a byte that never starts one.
static void repair_maximal_subparts(void **state)
{
    (void)state;
    s_expect("a\x80z", 3, 1, "a" FFFD "z");
    s_expect("a\xC0\xBCz", 4, 2, "a" FFFD FFFD "z");
    s_expect("a\xED\xA0\x80z", 5, 3, "a" FFFD FFFD FFFD "z");
    s_expect("a\xE2\x82\"", 4, 1, "a" FFFD "\"");
    s_expect("a\xF0\x9F\x98", 4, 1, "a" FFFD);
    s_expect("\xFF\xF5", 2, 2, FFFD FFFD);
}

static void repair_nul_and_surrogate_escapes(void **state)
{
    (void)state;
    s_expect("\"a\\u0000b\"", 10, 1, "\"a\\ufffdb\"");
    s_expect("\"\\udc80\"", 8, 1, "\"\\ufffd\"");
    s_expect("\"\\ud800x\"", 9, 1, "\"\\ufffdx\"");
    s_expect("\"\\ud800\\u0041\"", 14, 1, "\"\\ufffd\\u0041\"");
}

//  A repaired body parses, and the row with the bad title is still there.
static void repair_makes_body_parseable(void **state)
{
    (void)state;
    const char body[] = "{\"rows\":[[\"ok\",1],[\"bad \xC0\xBC here\",2],[\"\\u0000\",3]]}";
    assert_null(json_loadb(body, sizeof body - 1, 0, NULL));
    char *repaired = NULL;
    size_t size = 0;
    assert_int_equal(sd_utf8_repair_json(body, sizeof body - 1, &repaired, &size), 3);
    json_t *root = json_loadb(repaired, size, 0, NULL);
    assert_non_null(root);
    json_t *rows = json_object_get(root, "rows");
    assert_int_equal(json_array_size(rows), 3);
    assert_string_equal(json_string_value(json_array_get(json_array_get(rows, 1), 0)),
                        "bad " FFFD FFFD " here");
    assert_string_equal(json_string_value(json_array_get(json_array_get(rows, 2), 0)), FFFD);
    json_decref(root);
    free(repaired);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(repair_leaves_valid_text),
        cmocka_unit_test(repair_maximal_subparts),
        cmocka_unit_test(repair_nul_and_surrogate_escapes),
        cmocka_unit_test(repair_makes_body_parseable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
