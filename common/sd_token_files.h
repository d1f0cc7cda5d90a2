/*  sd_token_files: checks at start-up every refresh token file that the
    YouTube config names, so that a worker with a missing token file or one
    that group or others may read refuses to start instead of failing at
    its first job.  */
#ifndef SD_TOKEN_FILES_H
#define SD_TOKEN_FILES_H

#include <stddef.h>

#include "sd_config.h"

//  Reads and drops each refresh token file in use: the content owner's in
//  content-owner mode, else every channel id's own. Returns 0, or -1 with
//  error filled with the first problem (it names the file and, for a loose
//  mode, the chmod 600 to run).
int sd_token_files_check(const sd_config *config, char *error, size_t error_size);

#endif
