/*  sd_lock: an exclusive lock on a file, so that one scheduler runs at a time.

    The lock is flock(LOCK_EX) on the open file. The kernel releases it when
    the process exits, even after a crash, so a stale file never blocks a
    restart. The holder writes its pid into the file so that a second
    instance can say who holds the lock.
*/
#ifndef SD_LOCK_H
#define SD_LOCK_H

#include <stddef.h>

typedef struct sd_lock sd_lock;

//  Takes the lock on path (creating the file with mode 0644) without
//  waiting. Returns the lock, or NULL with one line in error: when another
//  process holds it, the line names the file and the holder's pid.
sd_lock *sd_lock_acquire(const char *path, char *error, size_t size);

//  Releases the lock and closes the file. Safe on NULL.
void sd_lock_release(sd_lock **self);

#endif
