/*  fuzz_mustache: the Mustache compiler and renderer on any template.

    The input is the template text, then optionally a NUL byte and the text
    that every partial tag loads (so partials can nest and recurse). The
    context is fixed and contains every kind of JSON value. A template that
    compiles is rendered twice with partials and once without, under a
    1 MiB output limit. Each output must be as long as its reported size,
    and the two renders with partials must give the same output. Every
    failure must come with a reason.
*/
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "sd_mustache.h"

//  The output limit for fuzzing. The default (SD_MUSTACHE_MAX_OUTPUT,
//  256 MiB) would trip the fuzzer's memory limit on templates that loop
//  over the context, which is the limit doing its job, not a bug.
#define FUZZ_MAX_OUTPUT (1024 * 1024)

static const char s_context_json[] =
    "{\"title\": \"Q&A <b>\\\"report\\\"</b> 'x'\", \"count\": 42, \"ratio\": 0.125,"
    " \"big\": 1e300, \"negative\": -7, \"yes\": true, \"no\": false, \"nothing\": null,"
    " \"empty\": \"\", \"zero\": 0, \"none\": [],"
    " \"rows\": [{\"name\": \"alpha\", \"value\": 1, \"tags\": [\"a\", \"b\"]},"
    "          {\"name\": \"beta\", \"value\": 2.5, \"tags\": []},"
    "          {\"name\": \"<gamma>\", \"value\": null, \"nested\": {\"deep\": {\"er\": \"x\"}}}],"
    " \"numbers\": [1, 2, 3], \"site\": {\"name\": \"Network\", \"rows\": [{\"name\": \"inner\"}]},"
    " \"a\": {\"b\": {\"c\": {\"d\": \"dotted\"}}}}";

static json_t *s_context(void)
{
    static json_t *context;
    if (!context) {
        json_error_t error;
        context = json_loads(s_context_json, 0, &error);
        if (!context)
            fuzz_fail("fixed context does not parse: %s", error.text);
    }
    return context;
}

//  Hands out a copy of the partial text from the input, whatever the name.
static int s_load_partial(void *arg, const char *name, char **text)
{
    (void)name;
    const char *partial = arg;
    *text = partial ? strdup(partial) : NULL;
    return partial && !*text ? -1 : 0;
}

//  Renders once. Returns the output (caller frees), or NULL when the render
//  failed with a reason.
static char *s_render(sd_mustache_t *template, const char *partial, size_t *size)
{
    char *output = NULL;
    int rc = sd_mustache_render(template, s_context(), partial ? s_load_partial : NULL,
                                (void *)partial, &output, size);
    if (rc != 0) {
        if (output)
            fuzz_fail("failed render left an output");
        if (!sd_mustache_error(template))
            fuzz_fail("failed render has no reason");
        return NULL;
    }
    if (!output || strlen(output) != *size)
        fuzz_fail("output length does not match its size %zu", *size);
    return output;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    size_t template_length = strlen(text);
    const char *partial = template_length < size ? text + template_length + 1 : NULL;

    char *error = NULL;
    sd_mustache_t *template = sd_mustache_new(text, &error);
    if (!template && !error)
        fuzz_fail("compile failed without a message");
    if (template) {
        sd_mustache_set_max_output(template, FUZZ_MAX_OUTPUT);
        size_t first_size = 0;
        size_t second_size = 0;
        char *first = s_render(template, partial, &first_size);
        char *second = s_render(template, partial, &second_size);
        if ((first == NULL) != (second == NULL) ||
            (first && (first_size != second_size || memcmp(first, second, first_size) != 0)))
            fuzz_fail("two renders of the same template differ");
        free(first);
        free(second);

        size_t plain_size = 0;
        free(s_render(template, NULL, &plain_size));
    }
    sd_mustache_destroy(&template);
    free(error);
    free(text);
    return 0;
}
