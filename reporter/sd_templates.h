/*  sd_templates: where the reporter's Mustache templates are read from.

    A template is a file "NAME.mustache". Each file is looked up on its own
    in three folders, the first that has it wins:
      1. reporter.templates_dir of the config, when set (sd_templates_set_dir),
         so a site can override one template and keep the others;
      2. /usr/share/statsdash/templates, where the package installs them;
      3. reporter/templates of the source tree this binary was built from,
         so a build runs without installing.
    Names are limited to letters, digits, '-', '_' and '.' (no '/', no
    ".."), so neither a template's {{> partial}} tag nor a table name can
    reach a file outside these folders.
*/
#ifndef SD_TEMPLATES_H
#define SD_TEMPLATES_H

#include <stddef.h>

#define SD_TEMPLATES_INSTALLED_DIR "/usr/share/statsdash/templates"

//  Largest template file read, in bytes.
#define SD_TEMPLATES_MAX_BYTES (1024 * 1024)

//  Sets the folder searched first (copied); NULL or "" for none. The
//  setting is process-wide; call it before rendering, from one thread.
void sd_templates_set_dir(const char *dir);

//  Reads the template NAME.mustache. Returns its text (caller frees), or
//  NULL: then *error (when error is not NULL) holds one line, empty when
//  no folder has the file and naming the file when it could not be read.
char *sd_templates_load(const char *name, char *error, size_t size);

//  An sd_mustache partial loader over sd_templates_load (arg unused): a
//  missing partial renders empty, an invalid name or unreadable file fails
//  the render.
int sd_templates_partial(void *arg, const char *name, char **text);

//  Frees the folder set by sd_templates_set_dir.
void sd_templates_reset(void);

#endif
