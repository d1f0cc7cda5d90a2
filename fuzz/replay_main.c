/*  replay_main: runs a fuzz target's LLVMFuzzerTestOneInput over saved
    inputs, without libFuzzer, so that the normal (gcc) sanitizer build can
    replay the corpora in CTest.

    Usage: fuzz_replay_NAME PATH...   where each PATH is an input file or a
    folder whose regular files are inputs (not recursive). Exits 0 when every
    input ran, 1 when a path cannot be read or contains no input. A crash or a
    sanitizer report ends the process as it would under libFuzzer.
*/
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_util.h"

//  Reads the whole file at path into a new buffer. Returns 0, or -1.
static int s_read_file(const char *path, uint8_t **data, size_t *size)
{
    FILE *file = fopen(path, "rb");
    if (!file)
        return -1;
    uint8_t *buffer = NULL;
    size_t length = 0;
    size_t capacity = 0;
    int rc = 0;
    for (;;) {
        if (length == capacity) {
            capacity = capacity ? capacity * 2 : 4096;
            uint8_t *grown = realloc(buffer, capacity);
            if (!grown) {
                rc = -1;
                break;
            }
            buffer = grown;
        }
        size_t got = fread(buffer + length, 1, capacity - length, file);
        length += got;
        if (got == 0)
            break;
    }
    if (ferror(file))
        rc = -1;
    fclose(file);
    if (rc != 0) {
        free(buffer);
        return -1;
    }
    *data = buffer;
    *size = length;
    return 0;
}

//  Runs one input file. Returns 0, or -1 when it cannot be read.
static int s_run_file(const char *path)
{
    uint8_t *data = NULL;
    size_t size = 0;
    if (s_read_file(path, &data, &size) != 0) {
        fprintf(stderr, "failed to read input %s: %s\n", path, strerror(errno));
        return -1;
    }
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

//  Runs every regular file of a folder. Returns the number run, or -1.
static long s_run_folder(const char *path)
{
    DIR *dir = opendir(path);
    if (!dir) {
        fprintf(stderr, "failed to open folder %s: %s\n", path, strerror(errno));
        return -1;
    }
    long count = 0;
    struct dirent *entry;
    while (count >= 0 && (entry = readdir(dir))) {
        char file[4096];
        struct stat info;
        snprintf(file, sizeof file, "%s/%s", path, entry->d_name);
        if (stat(file, &info) != 0 || !S_ISREG(info.st_mode))
            continue;
        count = s_run_file(file) == 0 ? count + 1 : -1;
    }
    closedir(dir);
    return count;
}

int main(int argc, char *argv[])
{
    long total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat info;
        long count = -1;
        if (stat(argv[i], &info) != 0)
            fprintf(stderr, "input not found: %s: %s\n", argv[i], strerror(errno));
        else if (S_ISDIR(info.st_mode))
            count = s_run_folder(argv[i]);
        else
            count = s_run_file(argv[i]) == 0 ? 1 : -1;
        if (count < 0)
            return 1;
        total += count;
    }
    if (total == 0) {
        fprintf(stderr, "no input to replay; usage: %s FILE_OR_FOLDER...\n", argv[0]);
        return 1;
    }
    printf("replayed %ld inputs\n", total);
    return 0;
}
