/*  sd_templates: where the reporter's Mustache templates are read from.  */
#include "sd_templates.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sd_log.h"

#ifndef SD_TEMPLATES_SOURCE_DIR
#define SD_TEMPLATES_SOURCE_DIR ""
#endif

static char *s_dir;

void sd_templates_set_dir(const char *dir)
{
    free(s_dir);
    s_dir = dir && *dir ? strdup(dir) : NULL;
}

void sd_templates_reset(void)
{
    sd_templates_set_dir(NULL);
}

static bool s_name_valid(const char *name)
{
    if (!*name || strlen(name) > 100 || strstr(name, ".."))
        return false;
    for (const char *p = name; *p; p++) {
        bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9');
        if (!alnum && !strchr("-_.", *p))
            return false;
    }
    return true;
}

//  Reads path. Returns the text, or NULL with *missing set when there is
//  no such file, or with error filled when it cannot be read.
static char *s_read(const char *path, bool *missing, char *error, size_t size)
{
    *missing = false;
    FILE *file = fopen(path, "rb");
    if (!file && errno == ENOENT) {
        *missing = true;
        return NULL;
    }
    struct stat info;
    char *text = NULL;
    if (!file || fstat(fileno(file), &info) != 0 || !S_ISREG(info.st_mode))
        snprintf(error, size, "cannot read the template %s: %s", path,
                 file ? "not a regular file" : strerror(errno));
    else if (info.st_size > SD_TEMPLATES_MAX_BYTES)
        snprintf(error, size, "the template %s is larger than %d bytes", path,
                 SD_TEMPLATES_MAX_BYTES);
    else if (!(text = calloc(1, (size_t)info.st_size + 1)))
        snprintf(error, size, "out of memory reading the template %s", path);
    else if (fread(text, 1, (size_t)info.st_size, file) != (size_t)info.st_size) {
        snprintf(error, size, "cannot read the template %s", path);
        free(text);
        text = NULL;
    }
    if (file)
        fclose(file);
    return text;
}

char *sd_templates_load(const char *name, char *error, size_t size)
{
    char scratch[512];
    if (!error) {
        error = scratch;
        size = sizeof scratch;
    }
    *error = '\0';
    if (!s_name_valid(name)) {
        snprintf(error, size, "invalid template name \"%.100s\"; use letters, digits, '-', '_' "
                 "and '.'", name);
        return NULL;
    }
    const char *dirs[] = {s_dir, SD_TEMPLATES_INSTALLED_DIR, SD_TEMPLATES_SOURCE_DIR};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (!dirs[i] || !*dirs[i])
            continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s.mustache", dirs[i], name);
        bool missing = false;
        char *text = s_read(path, &missing, error, size);
        if (text || !missing)
            return text;
    }
    return NULL;
}

int sd_templates_partial(void *arg, const char *name, char **text)
{
    (void)arg;
    char error[512];
    *text = sd_templates_load(name, error, sizeof error);
    if (*text || !*error)
        return 0;
    sd_warning("template partial not loaded: %s", error);
    return -1;
}
