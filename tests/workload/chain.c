// SPDX-License-Identifier: GPL-2.0
/*
 * chain.c: writes that come from a known call chain, for the stack tests. It is built twice,
 * with -fomit-frame-pointer (chain-nofp) and with frame pointers (chain-fp); the tests expect
 * the chain main -> ingest_batch -> encode_record -> append_record -> persist_record ->
 * write_all_bytes -> write in full and in that order.
 *
 * usage: chain FILE COUNT SIZE [sync]
 *   COUNT writes of SIZE bytes appended to FILE; with "sync", an fdatasync after each one
 *   (made from the same chain, in sync_record). Prints "writes N bytes B syncs S".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* noinline and an empty asm keep each function a frame of its own at -O2. */
#define STAGE	     __attribute__((noinline))
#define KEEP_FRAME() __asm__ volatile("" ::: "memory")

static unsigned long total_writes, total_bytes, total_syncs;

STAGE static int write_all_bytes(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		total_writes++;
		total_bytes += (unsigned long)n;
		buf += n;
		len -= (size_t)n;
	}
	KEEP_FRAME();
	return 0;
}

STAGE static int sync_record(int fd)
{
	int r = fdatasync(fd);

	if (!r)
		total_syncs++;
	KEEP_FRAME();
	return r;
}

STAGE static int persist_record(int fd, const char *buf, size_t len, int sync)
{
	int r = write_all_bytes(fd, buf, len);

	if (!r && sync)
		r = sync_record(fd);
	KEEP_FRAME();
	return r;
}

STAGE static int append_record(int fd, char *buf, size_t len, int sync)
{
	int r = persist_record(fd, buf, len, sync);

	KEEP_FRAME();
	return r;
}

STAGE static int encode_record(int fd, char *buf, size_t len, unsigned long seq, int sync)
{
	int r;

	memset(buf, 'a' + (int)(seq % 26), len);
	if (len)
		buf[len - 1] = '\n';
	r = append_record(fd, buf, len, sync);
	KEEP_FRAME();
	return r;
}

STAGE static int ingest_batch(int fd, unsigned long count, size_t len, int sync)
{
	char *buf = malloc(len ? len : 1);
	int r = 0;

	if (!buf)
		return -1;
	for (unsigned long i = 0; i < count && !r; i++)
		r = encode_record(fd, buf, len, i, sync);
	free(buf);
	KEEP_FRAME();
	return r;
}

int main(int argc, char **argv)
{
	unsigned long count, size;
	int fd, sync;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: chain FILE COUNT SIZE [sync]\n");
		return 2;
	}
	count = strtoul(argv[2], NULL, 10);
	size = strtoul(argv[3], NULL, 10);
	sync = argc == 5 && !strcmp(argv[4], "sync");
	fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	if (ingest_batch(fd, count, size, sync)) {
		perror("write");
		return 1;
	}
	close(fd);
	fprintf(stderr, "writes %lu bytes %lu syncs %lu\n", total_writes, total_bytes, total_syncs);
	return 0;
}
