// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_run.c: `writeamp run -- COMMAND`: trace a command and its descendants, wait for its
 * writeback, report, and exit as the command did.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "commands.h"
#include "sanitize.h"
#include "session.h"

#define EXIT_CANNOT_RUN	 127
#define EXIT_SIGNAL_BASE 128

/*
 * The child waits on `gate` until the parent has put it in the selection, so that not one of
 * its writes is missed; if exec fails it sends errno back through `report`, which exec closes.
 */
static void child_exec(char **argv, int gate, int report)
{
	char go;
	int err;

	sigprocmask(SIG_SETMASK, session_child_sigmask(), NULL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	if (read(gate, &go, 1) != 1)
		_exit(EXIT_CANNOT_RUN);
	close(gate);
	execvp(argv[0], argv);
	err = errno;
	if (write(report, &err, sizeof(err)) < 0)
		_exit(EXIT_CANNOT_RUN);
	_exit(EXIT_CANNOT_RUN);
}

/* Starts the command held at its gate. Returns its pid, or -1 (printed). */
static pid_t spawn_held(char **argv, int *gate_w, int *report_r)
{
	int gate[2], report[2];
	pid_t pid;

	if (pipe2(gate, O_CLOEXEC) || pipe2(report, O_CLOEXEC)) {
		fprintf(stderr, "writeamp: run: pipe: %s\n", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "writeamp: run: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(gate[1]);
		close(report[0]);
		child_exec(argv, gate[0], report[1]);
	}
	close(gate[0]);
	close(report[1]);
	*gate_w = gate[1];
	*report_r = report[0];
	return pid;
}

/* Opens the gate; returns 0 once the command runs, or -1 (printed) if it could not start. */
static int release(pid_t pid, const char *name, int gate_w, int report_r)
{
	char shown[256];
	int err = 0;
	ssize_t got;

	if (write(gate_w, "g", 1) != 1)
		err = errno;
	close(gate_w);
	got = read(report_r, &err, sizeof(err));
	close(report_r);
	if (got == sizeof(err) || err) {
		fprintf(stderr, "writeamp: run: cannot run '%s': %s\n",
			sanitize_column(shown, sizeof(shown), name), strerror(err));
		waitpid(pid, NULL, 0);
		return -1;
	}
	return 0;
}

/* SIGTERM and a Ctrl-C sent to writeamp alone are passed on; the command decides to stop. */
static void wait_for_exit(struct session *s, pid_t pid, int *status)
{
	while (waitpid(pid, status, WNOHANG) == 0) {
		if (session_stop_requested) {
			kill(pid, session_last_signal());
			session_stop_requested = 0;
		}
		session_wait(s, session_next_interval_s(s));
	}
}

static int exit_code_of(int status)
{
	if (WIFSIGNALED(status))
		return EXIT_SIGNAL_BASE + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int cmd_run(const struct wa_options *opts)
{
	int gate_w, report_r, status = 0, err;
	struct session s;
	pid_t pid;

	if (session_handle_signals() || session_start(&s, opts, true))
		return 1;
	s.command = opts->command_argv;
	pid = spawn_held(opts->command_argv, &gate_w, &report_r);
	if (pid < 0) {
		session_stop(&s);
		return 1;
	}
	err = tracer_select(&s.tracer, pid);
	if (err) {
		fprintf(stderr, "writeamp: run: cannot select the command: %s\n", strerror(-err));
		kill(pid, SIGKILL);
	}
	if (err || release(pid, opts->command_argv[0], gate_w, report_r)) {
		session_stop(&s);
		return EXIT_CANNOT_RUN;
	}
	wait_for_exit(&s, pid, &status);
	s.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
	s.exit_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	writeback_settle(&s.tracer.maps, s.namer, opts->settle_s, &session_stop_requested,
			 session_child_sigmask(), &s.settle);
	err = session_final_report(&s);
	session_stop(&s);
	return err ? 1 : exit_code_of(status);
}
