/*  ga_test_util: helpers shared by the worker-ga tests: running a zloop
    until a condition holds, temporary folders, and RSA keys with their
    service-account key files.  */
#ifndef GA_TEST_UTIL_H
#define GA_TEST_UTIL_H

#include <czmq.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

typedef bool(ga_test_done_fn)(void *arg);

//  Runs loop until done(arg) is true (checked every few milliseconds) or
//  timeout_ms passes. Returns 0 when done, -1 on timeout.
int ga_test_run_until(zloop_t *loop, ga_test_done_fn *done, void *arg, int timeout_ms);

//  Creates a new temporary folder and returns its path (caller frees), or NULL.
char *ga_test_temp_dir(void);

//  Removes a folder made by ga_test_temp_dir and everything in it.
void ga_test_remove_dir(const char *path);

//  Returns a new 2048-bit RSA key, or NULL.
EVP_PKEY *ga_test_rsa_key(void);

//  Writes a service-account JSON key file for key with the given token_uri
//  (NULL leaves the field out) and sets its mode. Returns 0 or -1.
int ga_test_write_key_file(const char *path, EVP_PKEY *key, const char *token_uri, int mode);

#endif
