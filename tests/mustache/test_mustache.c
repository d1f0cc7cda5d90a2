/*  Unit tests of sd_mustache beyond the specification's cases: compile
    errors with their line numbers, render limits, partial loading, value
    formatting, HTML escaping of hostile values and random template text.
*/
#include "sd_mustache.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

//  --------------------------------------------------------------------------
//  Helpers

//  Partial loader over a jansson object of name -> text.
static int s_load_partial(void *arg, const char *name, char **text)
{
    const char *value = json_string_value(json_object_get(arg, name));
    *text = value ? strdup(value) : NULL;
    return value && !*text ? -1 : 0;
}

static int s_fail_loading(void *arg, const char *name, char **text)
{
    (void)arg;
    (void)name;
    *text = NULL;
    return -1;
}

//  Compiles text, which must fail, and returns the heap error message.
static char *s_compile_error(const char *text)
{
    char *error = NULL;
    sd_mustache_t *template = sd_mustache_new(text, &error);
    assert_null(template);
    assert_non_null(error);
    return error;
}

static void s_assert_compile_error(const char *text, const char *expected_part)
{
    char *error = s_compile_error(text);
    if (!strstr(error, expected_part))
        fail_msg("template [%s]: error [%s] lacks [%s]", text, error, expected_part);
    free(error);
}

//  Renders text with data (JSON text) and partials (JSON object text or
//  NULL) and returns the heap output, or NULL when the render fails; then
//  *error gets a heap copy of the reason.
static char *s_render_json(const char *text, const char *data, const char *partials, char **error)
{
    char *compile_error = NULL;
    sd_mustache_t *template = sd_mustache_new(text, &compile_error);
    if (!template)
        fail_msg("template [%s] does not compile: %s", text, compile_error);
    json_t *context = json_loads(data, 0, NULL);
    assert_non_null(context);
    json_t *partial_texts = partials ? json_loads(partials, 0, NULL) : NULL;

    char *output = NULL;
    size_t size = 0;
    int rc = sd_mustache_render(template, context, s_load_partial, partial_texts, &output, &size);
    if (rc == 0)
        assert_int_equal(size, strlen(output));
    if (error)
        *error = rc == 0 ? NULL : strdup(sd_mustache_error(template));
    json_decref(partial_texts);
    json_decref(context);
    sd_mustache_destroy(&template);
    return output;
}

static void s_assert_renders(const char *text, const char *data, const char *partials,
                             const char *expected)
{
    char *error = NULL;
    char *output = s_render_json(text, data, partials, &error);
    if (!output)
        fail_msg("template [%s] fails to render: %s", text, error);
    if (strcmp(output, expected) != 0)
        fail_msg("template [%s]: expected [%s], output [%s]", text, expected, output);
    free(output);
}

//  Renders text, which must fail, and checks the error message.
static void s_assert_render_error(const char *text, const char *data, const char *partials,
                                  const char *expected_part)
{
    char *error = NULL;
    char *output = s_render_json(text, data, partials, &error);
    assert_null(output);
    assert_non_null(error);
    if (!strstr(error, expected_part))
        fail_msg("template [%s]: error [%s] lacks [%s]", text, error, expected_part);
    free(error);
}

//  --------------------------------------------------------------------------
//  Compile errors

static void test_unclosed_section(void **state)
{
    (void)state;
    s_assert_compile_error("<ul>\n{{#rows}}\n<li>{{name}}</li>\n",
                           "line 2: unclosed section 'rows'");
    s_assert_compile_error("{{^empty}}nothing", "line 1: unclosed section 'empty'");
}

static void test_mismatched_close(void **state)
{
    (void)state;
    s_assert_compile_error("{{#a}}\n{{#b}}\n{{/a}}\n{{/b}}",
                           "line 3: '{{/a}}' does not match the open section 'b' from line 2");
}

static void test_close_without_open(void **state)
{
    (void)state;
    s_assert_compile_error("text\r\nmore\r\n{{/rows}}",
                           "line 3: '{{/rows}}' closes no open section");
}

static void test_unclosed_tag(void **state)
{
    (void)state;
    s_assert_compile_error("Hello\n{{name", "line 2: unclosed tag '{{': no '}}' follows it");
    s_assert_compile_error("{{{name}}", "line 1: unclosed tag '{{{': no '}}}' follows it");
    s_assert_compile_error("{{=<% %>}}", "line 1: unclosed tag '{{=': no '=}}' follows it");
    s_assert_compile_error("{{", "line 1: unclosed tag");
    s_assert_compile_error("{{!never closed", "line 1: unclosed tag");
}

static void test_invalid_names(void **state)
{
    (void)state;
    s_assert_compile_error("{{}}", "line 1: missing name in tag '{{}}'");
    s_assert_compile_error("{{#  }}x{{/  }}", "missing name");
    s_assert_compile_error("{{>}}", "missing name");
    s_assert_compile_error("{{first name}}",
                           "invalid name 'first name': names contain no whitespace");
    s_assert_compile_error("{{a..b}}", "invalid name 'a..b': a dotted name has an empty part");
    s_assert_compile_error("{{#.a}}{{/.a}}", "invalid name '.a'");
    s_assert_compile_error("{{a.}}", "invalid name 'a.'");
}

static void test_invalid_delimiters(void **state)
{
    (void)state;
    s_assert_compile_error("{{=<%=}}", "line 1: invalid delimiters '<%'");
    s_assert_compile_error("{{= =}}", "invalid delimiters");
    s_assert_compile_error("{{=< % >=}}", "invalid delimiters '< % >'");
    s_assert_compile_error("{{=<<<<<<<<<<<<<<<<< >=}}", "invalid delimiters");
}

static void test_section_nesting_limit(void **state)
{
    (void)state;
    size_t levels = SD_MUSTACHE_MAX_DEPTH + 1;
    char *text = calloc(levels * 12 + 1, 1);
    assert_non_null(text);
    for (size_t i = 0; i < levels; i++)
        strcat(text, "{{#a}}");
    for (size_t i = 0; i < levels; i++)
        strcat(text, "{{/a}}");
    s_assert_compile_error(text, "sections nested deeper than 100 levels");

    //  One level less is accepted.
    text[strlen(text) - 6] = '\0';
    memmove(text, text + 6, strlen(text + 6) + 1);
    sd_mustache_t *template = sd_mustache_new(text, NULL);
    assert_non_null(template);
    sd_mustache_destroy(&template);
    free(text);
}

static void test_error_pointer_optional(void **state)
{
    (void)state;
    assert_null(sd_mustache_new("{{#a}}", NULL));
    sd_mustache_t *template = sd_mustache_new("ok", NULL);
    assert_non_null(template);
    sd_mustache_destroy(&template);
    sd_mustache_destroy(&template);
    assert_null(template);
}

//  --------------------------------------------------------------------------
//  Render limits and partials

static void test_partial_recursion_limit(void **state)
{
    (void)state;
    s_assert_render_error("{{>loop}}", "{}", "{\"loop\": \"x{{>loop}}\"}",
                          "line 1 of partial 'loop': sections and partials nested deeper than "
                          "100 levels");
}

static void test_recursion_follows_data(void **state)
{
    (void)state;
    s_assert_renders("{{>node}}",
                     "{\"v\": 1, \"kids\": [{\"v\": 2, \"kids\": [{\"v\": 3, \"kids\": []}]},"
                     " {\"v\": 4, \"kids\": []}]}",
                     "{\"node\": \"{{v}}({{#kids}}{{>node}}{{/kids}})\"}", "1(2(3())4())");
}

static void test_work_limit(void **state)
{
    (void)state;
    //  Each level includes the next ten times: 10^8 partial expansions.
    char partials[2048] = "{";
    for (int level = 0; level < 8; level++) {
        char entry[256];
        snprintf(entry, sizeof entry,
                 "%s\"p%d\": \"{{>p%d}}{{>p%d}}{{>p%d}}{{>p%d}}{{>p%d}}"
                 "{{>p%d}}{{>p%d}}{{>p%d}}{{>p%d}}{{>p%d}}\"",
                 level ? ", " : "", level, level + 1, level + 1, level + 1, level + 1, level + 1,
                 level + 1, level + 1, level + 1, level + 1, level + 1);
        strcat(partials, entry);
    }
    strcat(partials, "}");
    s_assert_render_error("{{>p0}}", "{}", partials, "rendering visits more than 10000000");
}

static void test_output_limit(void **state)
{
    (void)state;
    sd_mustache_t *template = sd_mustache_new("{{#rows}}{{{text}}}{{/rows}}", NULL);
    assert_non_null(template);
    json_t *context = json_pack("{s:[i,i,i,i], s:s}", "rows", 1, 2, 3, 4, "text", "0123456789");
    assert_non_null(context);
    char *output = NULL;
    size_t size = 0;

    sd_mustache_set_max_output(template, 40);
    assert_int_equal(sd_mustache_render(template, context, NULL, NULL, &output, &size), 0);
    assert_string_equal(output, "0123456789012345678901234567890123456789");
    free(output);

    sd_mustache_set_max_output(template, 39);
    assert_int_equal(sd_mustache_render(template, context, NULL, NULL, &output, &size), -1);
    assert_null(output);
    assert_string_equal(sd_mustache_error(template), "output exceeds the limit of 39 bytes");

    json_decref(context);
    sd_mustache_destroy(&template);
}

static void test_partial_loader_failure(void **state)
{
    (void)state;
    sd_mustache_t *template = sd_mustache_new("a\n{{>header}}", NULL);
    assert_non_null(template);
    char *output = NULL;
    assert_int_equal(sd_mustache_render(template, NULL, s_fail_loading, NULL, &output, NULL), -1);
    assert_null(output);
    assert_string_equal(sd_mustache_error(template), "line 2: loading partial 'header' failed");

    //  Without a loader every partial is empty, and success clears the error.
    assert_int_equal(sd_mustache_render(template, NULL, NULL, NULL, &output, NULL), 0);
    assert_string_equal(output, "a\n");
    assert_null(sd_mustache_error(template));
    free(output);
    sd_mustache_destroy(&template);
}

static void test_partial_compile_error(void **state)
{
    (void)state;
    s_assert_render_error("top\n{{>row}}", "{}", "{\"row\": \"ok\\n{{#cells}}\"}",
                          "line 2: partial 'row': line 2: unclosed section 'cells'");
    s_assert_render_error("{{>outer}}", "{}",
                          "{\"outer\": \"\\n{{>inner}}\", \"inner\": \"{{/x}}\"}",
                          "line 2 of partial 'outer': partial 'inner': line 1: '{{/x}}' closes "
                          "no open section");
}

static void test_nested_partial_indentation(void **state)
{
    (void)state;
    s_assert_renders("<\n  {{>a}}\n>", "{}",
                     "{\"a\": \"1\\n  {{>b}}\\n2\\n\", \"b\": \"3\\n4\\n\"}",
                     "<\n  1\n    3\n    4\n  2\n>");
    //  The same partial inline and standalone gets indented only where standalone.
    s_assert_renders("[{{>a}}]\n {{>a}}\n", "{}", "{\"a\": \"x\\ny\"}", "[x\ny]\n x\n y");
}

static void test_render_many_times(void **state)
{
    (void)state;
    sd_mustache_t *template =
        sd_mustache_new("{{#items}}{{name}};{{/items}}{{^items}}none{{/items}}", NULL);
    assert_non_null(template);
    const char *contexts[] = {"{\"items\": [{\"name\": \"a\"}, {\"name\": \"b\"}]}", "{}",
                              "{\"items\": {\"name\": \"c\"}}"};
    const char *expected[] = {"a;b;", "none", "c;"};
    for (size_t i = 0; i < 3; i++) {
        json_t *context = json_loads(contexts[i], 0, NULL);
        assert_non_null(context);
        char *output = NULL;
        assert_int_equal(sd_mustache_render(template, context, NULL, NULL, &output, NULL), 0);
        assert_string_equal(output, expected[i]);
        free(output);
        json_decref(context);
    }
    sd_mustache_destroy(&template);
}

//  --------------------------------------------------------------------------
//  Values and escaping

static void test_value_formatting(void **state)
{
    (void)state;
    s_assert_renders("{{t}} {{f}} [{{n}}] [{{o}}] [{{a}}]",
                     "{\"t\": true, \"f\": false, \"n\": null, \"o\": {\"k\": 1}, \"a\": [1]}",
                     NULL, "true false [] [] []");
    s_assert_renders("{{big}} {{negative}} {{zero}}",
                     "{\"big\": 9223372036854775807, \"negative\": -42, \"zero\": 0}", NULL,
                     "9223372036854775807 -42 0");
    s_assert_renders(
        "{{a}} {{b}} {{c}} {{d}} {{e}}",
        "{\"a\": 0.1, \"b\": 100.0, \"c\": -2.5, \"d\": 1e300, \"e\": 0.30000000000000004}", NULL,
        "0.1 100 -2.5 1e+300 0.30000000000000004");
}

static void test_truthiness(void **state)
{
    (void)state;
    s_assert_renders("{{#zero}}0 is truthy{{/zero}} {{#empty}}\"\" is truthy{{/empty}}",
                     "{\"zero\": 0, \"empty\": \"\"}", NULL, "0 is truthy \"\" is truthy");
    s_assert_renders("[{{#n}}x{{/n}}{{#f}}x{{/f}}{{#l}}x{{/l}}{{#missing}}x{{/missing}}]",
                     "{\"n\": null, \"f\": false, \"l\": []}", NULL, "[]");
    s_assert_renders("{{^o}}x{{/o}}{{^l}}empty{{/l}}", "{\"o\": {}, \"l\": []}", NULL, "empty");
}

static void test_dotted_names(void **state)
{
    (void)state;
    //  A key that contains a dot is never matched as a whole.
    s_assert_renders("[{{a.b}}]", "{\"a.b\": \"c\"}", NULL, "[]");
    //  A nearer context without the key does not hide an outer one.
    s_assert_renders("{{#inner}}{{site.name}}{{/inner}}",
                     "{\"site\": {\"name\": \"Example\"}, \"inner\": {\"other\": 1}}", NULL,
                     "Example");
    s_assert_renders("{{#.}}{{.}}{{/.}}", "[1, 2, 3]", NULL, "123");
}

static void test_escaping_hostile_values(void **state)
{
    (void)state;
    const char *data = "{\"v\": \"<script>alert('x&y')</script>\","
                       " \"attr\": \"\\\" onmouseover=\\\"steal()\"}";
    s_assert_renders("<p>{{v}}</p>", data, NULL,
                     "<p>&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt;</p>");
    s_assert_renders("<a title=\"{{attr}}\">", data, NULL,
                     "<a title=\"&quot; onmouseover=&quot;steal()\">");
    s_assert_renders("{{{v}}}|{{&attr}}", data, NULL,
                     "<script>alert('x&y')</script>|\" onmouseover=\"steal()");
}

static void test_values_are_not_templates(void **state)
{
    (void)state;
    s_assert_renders("{{a}} {{{a}}}", "{\"a\": \"{{b}}{{>p}}\", \"b\": \"X\"}", "{\"p\": \"P\"}",
                     "{{b}}{{&gt;p}} {{b}}{{>p}}");
}

static void test_string_with_nul(void **state)
{
    (void)state;
    sd_mustache_t *template = sd_mustache_new("[{{v}}]", NULL);
    assert_non_null(template);
    json_t *context = json_pack("{s:s%}", "v", "a\0<", (size_t)3);
    assert_non_null(context);
    char *output = NULL;
    size_t size = 0;
    assert_int_equal(sd_mustache_render(template, context, NULL, NULL, &output, &size), 0);
    assert_int_equal(size, 8);
    assert_memory_equal(output, "[a\0&lt;]", 8);
    free(output);
    json_decref(context);
    sd_mustache_destroy(&template);
}

//  --------------------------------------------------------------------------
//  Random template text

static uint32_t s_random_state = 12345;

static uint32_t s_random(void)
{
    s_random_state = s_random_state * 1103515245u + 12345u;
    return s_random_state >> 8;
}

//  Every random template either compiles and renders or fails with a
//  located message; AddressSanitizer reports any memory error.
static void test_random_templates(void **state)
{
    (void)state;
    static const char *pieces[] = {
        "{{",     "}}",     "{{{",       "}}}",    "{{#a}}",  "{{/a}}", "{{^b}}", "{{/b}}",
        "{{>p}}", "{{>q}}", "{{=| |=}}", "|",      "|#a|",    "|/a|",   "{{!",    "\n",
        "  ",     "\r\n",   "x",         "{{.}}",  "{{a.b}}", "{",      "}",      "=",
        "#",      "{{&c}}", "{{#.}}",    "{{/.}}", "<&\"'>",  "{{=",    "=}}",    "{{ a }}",
    };
    const size_t piece_count = sizeof pieces / sizeof pieces[0];
    json_t *context =
        json_loads("{\"a\": [{\"b\": \"<\"}, {\"b\": 2}], \"b\": false, \"c\": \"&\"}", 0, NULL);
    json_t *partials = json_loads("{\"p\": \"  {{>p}}\\n\", \"q\": \"{{#a}}\"}", 0, NULL);
    assert_non_null(context);
    assert_non_null(partials);

    for (int round = 0; round < 20000; round++) {
        char text[1024] = "";
        size_t count = 1 + s_random() % 24;
        for (size_t i = 0; i < count; i++)
            strcat(text, pieces[s_random() % piece_count]);

        char *error = NULL;
        sd_mustache_t *template = sd_mustache_new(text, &error);
        if (!template) {
            assert_non_null(error);
            assert_memory_equal(error, "line ", 5);
            free(error);
            continue;
        }
        char *output = NULL;
        int rc = sd_mustache_render(template, context, s_load_partial, partials, &output, NULL);
        if (rc == 0)
            assert_non_null(output);
        else
            assert_non_null(sd_mustache_error(template));
        free(output);
        sd_mustache_destroy(&template);
    }
    json_decref(partials);
    json_decref(context);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unclosed_section),
        cmocka_unit_test(test_mismatched_close),
        cmocka_unit_test(test_close_without_open),
        cmocka_unit_test(test_unclosed_tag),
        cmocka_unit_test(test_invalid_names),
        cmocka_unit_test(test_invalid_delimiters),
        cmocka_unit_test(test_section_nesting_limit),
        cmocka_unit_test(test_error_pointer_optional),
        cmocka_unit_test(test_partial_recursion_limit),
        cmocka_unit_test(test_recursion_follows_data),
        cmocka_unit_test(test_work_limit),
        cmocka_unit_test(test_output_limit),
        cmocka_unit_test(test_partial_loader_failure),
        cmocka_unit_test(test_partial_compile_error),
        cmocka_unit_test(test_nested_partial_indentation),
        cmocka_unit_test(test_render_many_times),
        cmocka_unit_test(test_value_formatting),
        cmocka_unit_test(test_truthiness),
        cmocka_unit_test(test_dotted_names),
        cmocka_unit_test(test_escaping_hostile_values),
        cmocka_unit_test(test_values_are_not_templates),
        cmocka_unit_test(test_string_with_nul),
        cmocka_unit_test(test_random_templates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
