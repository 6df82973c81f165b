// SPDX-License-Identifier: GPL-2.0
/* floor.c: attaches floor.bpf.o's empty programs until SIGINT or SIGTERM, for bench.sh. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#define READY_LINE "Floor programs attached."

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static int attach_all(struct bpf_object *obj)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj)
	{
		if (!bpf_program__attach(prog)) {
			fprintf(stderr, "floor: cannot attach %s\n", bpf_program__name(prog));
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;

	if (argc != 2) {
		fprintf(stderr, "usage: floor FLOOR.BPF.O\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "floor: cannot load %s\n", argv[1]);
		return 1;
	}
	/* The links stay attached until the process exits; the kernel detaches them then. */
	if (attach_all(obj))
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("%s\n", READY_LINE);
	fflush(stdout);
	/* A signal between the test and a pause() would be missed; a short sleep is not. */
	while (!stop)
		usleep(100 * 1000);
	return 0;
}
