/* SPDX-License-Identifier: GPL-2.0 */
/* names.h: turning kernel identities (dev_t, inode, pid) into names a person reads. */
#ifndef WRITEAMP_NAMES_H
#define WRITEAMP_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

struct wa_namer;

/* Returns a new namer, or NULL when out of memory. */
struct wa_namer *namer_new(void);

/* NULL-safe. Every string the namer returned is freed with it. */
void namer_free(struct wa_namer *n);

/*
 * The path of a file, found again by its handle on its filesystem (so it works after its
 * writer exited). When that fails: "<device>:<leaf name> (deleted)" or "<device>:inode N".
 * Block-device inodes are named "/dev/NAME". Never NULL; owned by the namer.
 */
const char *namer_file_path(struct wa_namer *n, __u32 dev, __u64 ino, __u32 generation, __u32 mode,
			    __u32 rdev, const char *leaf);

/* Opens the file by its handle with open(2) `flags`. Returns an fd or -errno. */
int namer_open_file(struct wa_namer *n, __u32 dev, __u64 ino, __u32 generation, int flags);

/* The /proc/PID/cmdline of a live process, remembered for after it exits; NULL if never seen. */
const char *namer_cmdline(struct wa_namer *n, pid_t pid, __u64 start_ns);

/* Reads a live process's cmdline and libraries again now (it was just seen, or it exec'd). */
void namer_reread_process(struct wa_namer *n, pid_t pid, __u64 start_ns);

/* Names of live processes read before this are read again at their next use. */
void namer_refresh(struct wa_namer *n);

/*
 * The base names of the shared objects a live process has mapped ("libsqlite3.so.0 libc.so.6"),
 * space-separated, each once; remembered like the cmdline. NULL if never seen.
 */
const char *namer_libraries(struct wa_namer *n, pid_t pid, __u64 start_ns);

/* Writes the device's name (vda, loop0, nvme0n1p2) or "MAJ:MIN" into buf. Kernel dev_t. */
const char *device_name(__u32 dev, char *buf, size_t len);

/*
 * Resolves --dev: a name (vda, /dev/vda) or MAJ:MIN to a kernel dev_t. Returns 0, or -1 with
 * a one-line reason in `why`.
 */
int device_resolve(const char *arg, __u32 *dev, char *why, size_t len);

#endif /* WRITEAMP_NAMES_H */
