/*  fuzz_util: helpers shared by the fuzz targets.

    Every target defines LLVMFuzzerTestOneInput. libFuzzer supplies main()
    in the fuzz build; replay_main.c supplies it in the normal build, where
    CTest feeds each target its corpus.
*/
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

//  Returns a NUL-terminated copy of the input (caller frees). Aborts when
//  out of memory, since a fuzz run cannot go on without the copy.
char *fuzz_text(const uint8_t *data, size_t size);

//  Writes the input to this process's scratch file (mode 0600, removed at
//  exit) and returns its path, valid until the process ends. Aborts when
//  the file cannot be written.
const char *fuzz_scratch_file(const uint8_t *data, size_t size);

//  Sets the process's log level to errors only, so that the warnings the
//  code under test writes about bad input do not flood the fuzzer's output.
void fuzz_quiet_logs(void);

//  An input read front to back; past its end every read returns zeros.
typedef struct {
    const uint8_t *data;
    size_t size;
    size_t position;
} fuzz_input;

//  Returns the next byte, or 0 past the end.
uint8_t fuzz_input_byte(fuzz_input *input);

//  Returns true when every byte was read.
bool fuzz_input_done(const fuzz_input *input);

//  Reads one ZeroMQ message: a byte whose value modulo 8 is the frame count
//  (0 counts as 1), then per frame a length byte L and L bytes of data. L of
//  0xF0 or more gives a 12-bit length: (L & 0x0F) << 8 plus the next byte.
//  Frames are cut short at the end of the input. Aborts when out of memory.
zmsg_t *fuzz_input_message(fuzz_input *input);

//  Starts CZMQ without its SIGINT handler (libFuzzer has its own) and with
//  as many sockets as the file descriptor limit allows, once.
void fuzz_zsys_init(void);

//  Waits, up to 5 s, until fewer than FUZZ_SETTLE_DESCRIPTORS file
//  descriptors are open. libzmq frees closed sockets in its reaper thread,
//  so targets that make new sockets for every input call this first to let
//  the reaper catch up instead of running out of sockets.
#define FUZZ_SETTLE_DESCRIPTORS 256
void fuzz_zsys_settle(void);

//  Prints what went wrong to stderr and aborts, so that libFuzzer saves
//  the input as a crash.
void fuzz_fail(const char *format, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
