/*  sd_lock: flock on a file that carries the holder's pid.  */
#include "sd_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct sd_lock {
    int fd;
};

//  Reads the pid the holder wrote into the file, or "unknown".
static void s_read_holder(int fd, char *holder, size_t size)
{
    char text[32] = "";
    ssize_t length = pread(fd, text, sizeof text - 1, 0);
    text[length > 0 ? length : 0] = '\0';
    char *end = NULL;
    long pid = strtol(text, &end, 10);
    if (end != text && pid > 0)
        snprintf(holder, size, "%ld", pid);
    else
        snprintf(holder, size, "unknown");
}

//  Replaces the file's contents with our pid. Returns 0 or -1.
static int s_write_pid(int fd)
{
    char text[32];
    int length = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)length, 0) != length)
        return -1;
    return 0;
}

sd_lock *sd_lock_acquire(const char *path, char *error, size_t size)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(error, size, "cannot open the lock file %s: %s", path, strerror(errno));
        return NULL;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int cause = errno;
        char holder[32];
        s_read_holder(fd, holder, sizeof holder);
        if (cause == EWOULDBLOCK)
            snprintf(error, size,
                     "another scheduler is running: the lock file %s is held by "
                     "pid %s",
                     path, holder);
        else
            snprintf(error, size, "cannot lock %s: %s", path, strerror(cause));
        close(fd);
        return NULL;
    }
    sd_lock *self = calloc(1, sizeof *self);
    if (!self || s_write_pid(fd) != 0) {
        snprintf(error, size, "cannot write the pid into the lock file %s: %s", path,
                 strerror(errno));
        free(self);
        close(fd);
        return NULL;
    }
    self->fd = fd;
    return self;
}

void sd_lock_release(sd_lock **self_p)
{
    if (!self_p || !*self_p)
        return;
    sd_lock *self = *self_p;
    if (ftruncate(self->fd, 0) != 0) {
        //  The pid left in the file is harmless: the lock itself is gone.
    }
    close(self->fd);
    free(self);
    *self_p = NULL;
}
