/*  Runs the cases of one Mustache specification file (JSON, as published in
    the mustache/spec repository): compiles each template, renders it with
    the case's data and partials and compares with the expected output.
    Prints every failing case by name and exits 1 when any case fails.

    Usage: mustache_spec_runner SPEC.json
*/
#include "sd_mustache.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Loads a partial from the case's "partials" object.
static int s_load_partial(void *arg, const char *name, char **text)
{
    json_t *partials = arg;
    const char *value = json_string_value(json_object_get(partials, name));
    *text = NULL;
    if (value) {
        *text = strdup(value);
        if (!*text)
            return -1;
    }
    return 0;
}

//  Renders one case and compares the output. Returns 0 on a match, or
//  prints the difference and returns -1.
static int s_run_case(const char *file, json_t *test)
{
    const char *name = json_string_value(json_object_get(test, "name"));
    const char *template_text = json_string_value(json_object_get(test, "template"));
    json_t *expected = json_object_get(test, "expected");
    if (!name || !template_text || !json_is_string(expected)) {
        fprintf(stderr, "%s: case without name, template or expected output\n", file);
        return -1;
    }

    char *error = NULL;
    sd_mustache_t *template = sd_mustache_new(template_text, &error);
    if (!template) {
        fprintf(stderr, "FAIL %s: compile error: %s\n", name, error ? error : "(none)");
        free(error);
        return -1;
    }

    char *output = NULL;
    size_t size = 0;
    int rc = sd_mustache_render(template, json_object_get(test, "data"), s_load_partial,
                                json_object_get(test, "partials"), &output, &size);
    if (rc != 0)
        fprintf(stderr, "FAIL %s: render error: %s\n", name, sd_mustache_error(template));
    else if (size != json_string_length(expected) ||
             memcmp(output, json_string_value(expected), size) != 0) {
        fprintf(stderr, "FAIL %s\n  template: %s\n  expected: [%s]\n  output:   [%s]\n", name,
                template_text, json_string_value(expected), output);
        rc = -1;
    }
    free(output);
    sd_mustache_destroy(&template);
    return rc;
}

int main(int argc, char *argv[])
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s SPEC.json\n", argv[0]);
        return 2;
    }
    json_error_t json_error;
    json_t *spec = json_load_file(argv[1], 0, &json_error);
    if (!spec) {
        fprintf(stderr, "%s: loading the spec file failed: %s\n", argv[1], json_error.text);
        return 2;
    }
    json_t *tests = json_object_get(spec, "tests");
    if (!json_is_array(tests) || json_array_size(tests) == 0) {
        fprintf(stderr, "%s: missing or empty \"tests\" array; expected a Mustache spec file\n",
                argv[1]);
        json_decref(spec);
        return 2;
    }

    size_t failures = 0;
    size_t index;
    json_t *test;
    json_array_foreach(tests, index, test)
    {
        if (s_run_case(argv[1], test))
            failures++;
    }
    printf("%s: %zu of %zu cases passed\n", argv[1], json_array_size(tests) - failures,
           json_array_size(tests));
    json_decref(spec);
    return failures ? 1 : 0;
}
