#!/usr/bin/env bash
# bench.sh: what writeamp adds to each write() of a busy writer, next to no tracer and bpftrace.
# SPDX-License-Identifier: GPL-2.0
#
# Not a test: it prints figures side by side and always exits 0 once it has measured. Runs are
# interleaved (every round runs every condition once, in a rotated order) and medians are
# reported, because single timings on this VM drift by more than the differences measured.
set -euo pipefail

readonly DEFAULT_ROUNDS=7
readonly DEFAULT_COUNT=2000000
readonly QUICK_ROUNDS=3
readonly QUICK_COUNT=500000
readonly READY_TIMEOUT_S=30
readonly STOP_TIMEOUT_S=30
readonly POLL_S=0.1
readonly SETTLE_S=1 # lets the last tracer's teardown finish before the next timing
readonly ATTACH_GRACE_S=1 # bpftrace prints its ready line before it attaches, not after
readonly SIGINT_REPEAT_S=3
readonly CPU_TRACE_S=10
readonly CPU_LOOP_S=12 # outlasts writeamp's startup and its 10 s of tracing
readonly CPU_LIMIT_PCT=1
readonly BENCH_FILE=/var/tmp/writeamp-bench.dat
readonly WRITE_SIZE=48
readonly WRITEAMP_READY='Tracing write amplification... Hit Ctrl-C to end.'
readonly BPFTRACE_READY='Attaching 1 probe...'
readonly PERF_READY='Events enabled' # perf record -D prints it once its events are on
export BPFTRACE_PROG='tracepoint:syscalls:sys_enter_write { @bytes[comm] = sum(args->count); @cnt[comm] = count(); }'
export BPFTRACE_EMPTY_PROG='tracepoint:syscalls:sys_enter_write { }'
readonly FLOOR_READY='Floor programs attached.'
readonly DEFAULT_CONDITIONS=none,writeamp,writeamp-stacks,writeamp-idle-container,syscall-floor,bpftrace,perf-record,empty-prog
readonly BASELINE=none        # "added ns/write" is measured from this condition
readonly REFERENCE=bpftrace   # and compared with what this one adds

usage() {
	cat <<EOF
Usage: bench/bench.sh [--rounds R] [--count N] [--quick] [--writeamp PATH] [--conditions LIST]
Times a loop of $WRITE_SIZE-byte write() calls to a page-cached file on the root filesystem with no
tracer, with writeamp and with a bpftrace one-liner attached, then measures writeamp's own
CPU use. Needs root.
  --rounds R         rounds of interleaved runs (default $DEFAULT_ROUNDS)
  --count N          writes per run (default $DEFAULT_COUNT)
  --quick            $QUICK_ROUNDS rounds of $QUICK_COUNT writes
  --writeamp PATH    the writeamp binary (default ./writeamp in the repository)
  --conditions LIST  comma-separated, from: $(condition_names) (default $DEFAULT_CONDITIONS)
EOF
}

die() {
	echo "bench.sh: $*" >&2
	exit 1
}

# ---- the conditions: one line each ----

COND_NAMES=()
COND_READY=()
COND_CMDS=()

# A condition is a name, the line its tracer prints once attached, and the command that starts
# it, run by bash with stdout and stderr going to its log; the variables in it are exported.
# An empty command means no tracer.
add_condition() {
	COND_NAMES+=("$1")
	COND_READY+=("$2")
	COND_CMDS+=("$3")
}

# shellcheck disable=SC2016 # the commands are expanded by the bash that runs them
define_conditions() {
	#             name        ready line           start command
	add_condition none        ''                   ''
	add_condition writeamp    "$WRITEAMP_READY"    '"$WRITEAMP" report -d 3600'
	# --container selects an idle container, so the host loop is filtered out in the kernel.
	add_condition writeamp-idle-container "$WRITEAMP_READY" \
		'"$WRITEAMP" report -d 3600 --container "$IDLE_CONTAINER"'
	# --stacks at its default settings: DWARF unwinding, one stack copy per 8 calls.
	add_condition writeamp-stacks "$WRITEAMP_READY" '"$WRITEAMP" report -d 3600 --stacks'
	add_condition bpftrace    "$BPFTRACE_READY"    'bpftrace -e "$BPFTRACE_PROG"'
	# What people run for stacks today; it sees block requests, not the writes themselves.
	add_condition perf-record "$PERF_READY" \
		'perf record -g -e block:block_rq_issue -a -D 1 -o "$WORK/perf.data"'
	add_condition empty-prog  "$BPFTRACE_READY"    'bpftrace -e "$BPFTRACE_EMPTY_PROG"' # its floor
	# Empty programs on tp_btf/sys_enter and sys_exit: what writeamp pays before its own code.
	add_condition syscall-floor "$FLOOR_READY"     '"$FLOOR" "$FLOOR_OBJ"'
}

condition_names() {
	local IFS=,
	echo "${COND_NAMES[*]}"
}

condition_index() {
	local i
	for i in "${!COND_NAMES[@]}"; do
		if [[ ${COND_NAMES[$i]} == "$1" ]]; then
			echo "$i"
			return 0
		fi
	done
	return 1
}

# ---- setup ----

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=$DEFAULT_ROUNDS
COUNT=$DEFAULT_COUNT
export WRITEAMP=$REPO_ROOT/writeamp
export FLOOR=$REPO_ROOT/.output/bench/floor
export FLOOR_OBJ=$REPO_ROOT/.output/bench/floor.bpf.o
IDLE_CONTAINER=''
CONDITIONS=$DEFAULT_CONDITIONS
WRITELOOP=$REPO_ROOT/.output/bench/writeloop
define_conditions

absolute_path() {
	if [[ $1 == /* ]]; then
		echo "$1"
	else
		echo "$PWD/$1"
	fi
}

parse_args() {
	while (($#)); do
		case $1 in
		--rounds) ROUNDS=${2:?--rounds needs a number}; shift ;;
		--count) COUNT=${2:?--count needs a number}; shift ;;
		--quick) ROUNDS=$QUICK_ROUNDS; COUNT=$QUICK_COUNT ;;
		--writeamp) WRITEAMP=$(absolute_path "${2:?--writeamp needs a path}"); shift ;;
		--conditions) CONDITIONS=${2:?--conditions needs a list}; shift ;;
		-h | --help) usage; exit 0 ;;
		*) usage >&2; exit 2 ;;
		esac
		shift
	done
	[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "--rounds: '$ROUNDS' is not a positive number"
	[[ $COUNT =~ ^[1-9][0-9]*$ ]] || die "--count: '$COUNT' is not a positive number"
}

SELECTED=() # indexes into the condition table, in the order given
select_conditions() {
	local name i
	IFS=, read -ra names <<<"$CONDITIONS"
	for name in "${names[@]}"; do
		i=$(condition_index "$name") ||
			die "--conditions: no condition '$name' (have $(condition_names))"
		SELECTED+=("$i")
	done
	((${#SELECTED[@]})) || die "--conditions: none selected"
}

selected_commands() {
	local i
	for i in "${SELECTED[@]}"; do
		echo "${COND_CMDS[$i]}"
	done
}

uses_writeamp() {
	local i
	for i in "${SELECTED[@]}"; do
		[[ ${COND_NAMES[$i]} == writeamp* ]] && return 0
	done
	return 1
}

# bpftrace 0.17 finds tracepoints through debugfs; libbpf needs only tracefs.
mount_tracing_filesystems() {
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug ||
		die "mount -t debugfs none /sys/kernel/debug failed"
	mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing ||
		die "mount -t tracefs nodev /sys/kernel/tracing failed"
}

# A tracer left attached by someone else slows every condition alike and hides the differences
# (a forgotten bpftrace doubled the no-tracer figure once); say so rather than measure quietly.
warn_about_attached_programs() {
	local n
	command -v bpftool >/dev/null || return 0
	n=$(bpftool prog list 2>/dev/null |
		grep -cE '^[0-9]+: (tracepoint|raw_tracepoint|tracing|kprobe|perf_event) ') || true
	if ((n > 0)); then
		echo "bench.sh: warning: $n tracing BPF programs are already loaded (bpftool prog list);" \
			"every figure includes their cost" >&2
	fi
}

check_requirements() {
	((EUID == 0)) || die "needs root"
	command -v taskset >/dev/null || die "taskset not found (Debian package util-linux)"
	if uses_writeamp; then
		[[ -x $WRITEAMP ]] ||
			die "$WRITEAMP is not an executable; build it with make or pass --writeamp"
	fi
	if selected_commands | grep -q '^bpftrace '; then
		command -v bpftrace >/dev/null || die "bpftrace not found (Debian package bpftrace)"
		mount_tracing_filesystems
	fi
	if selected_commands | grep -q '^perf '; then
		command -v perf >/dev/null || die "perf not found (Debian package linux-perf)"
	fi
	local tool
	for tool in "$WRITELOOP" "$FLOOR" "$FLOOR_OBJ"; do
		[[ -e $tool ]] && continue
		make -C "$REPO_ROOT" --no-print-directory "${tool#"$REPO_ROOT"/}" >&2 ||
			die "make ${tool#"$REPO_ROOT"/} failed"
	done
}

# The loop runs on the last CPU we may use and the tracers' user space on the first, so that
# the tracers' polling does not steal the loop's CPU. The BPF programs themselves run on the
# loop's CPU whatever we do: they run in the writer's syscalls.
choose_cpus() {
	local list
	list=$(taskset -cp $$ | sed 's/.*: *//')
	TRACER_CPU=${list%%[-,]*}
	LOOP_CPU=${list##*[-,]}
	if [[ $TRACER_CPU == "$LOOP_CPU" ]]; then
		TRACER_PIN=()
	else
		TRACER_PIN=(taskset -c "$TRACER_CPU")
	fi
}

# ---- running one condition ----

WORK=''
TRACER_PID=''
LOOP_PID=''
WRITEAMP_PID='' # writeamp under bash's time, which is not our child

# Stops a process we started with SIGINT, as a user's Ctrl-C would, repeated now and then:
# bpftrace 0.17 sometimes loses a SIGINT that comes soon after it has attached and then waits
# forever (seen here about once in 60 tries). SIGKILL after a timeout. Returns the exit status.
stop_process() {
	local pid=$1 status=0 deadline=$((SECONDS + STOP_TIMEOUT_S)) next_int=0
	while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
		if ((SECONDS >= next_int)); then
			kill -INT "$pid" 2>/dev/null || true
			next_int=$((SECONDS + SIGINT_REPEAT_S))
		fi
		sleep "$POLL_S"
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || status=$?
	return "$status"
}

cleanup() {
	[[ -n $IDLE_CONTAINER ]] && { podman rm -f "$IDLE_CONTAINER" >/dev/null 2>&1 || true; }
	[[ -n $WRITEAMP_PID ]] && { stop_process "$WRITEAMP_PID" || true; }
	[[ -n $TRACER_PID ]] && { stop_process "$TRACER_PID" || true; }
	[[ -n $LOOP_PID ]] && { stop_process "$LOOP_PID" || true; }
	[[ -n $WORK ]] && rm -rf "$WORK"
	rm -f "$BENCH_FILE"
}

# A non-interactive shell starts background jobs with SIGINT ignored; env gives it back, so the
# tracer can be stopped with SIGINT even if it never installs a handler of its own.
start_tracer() {
	local i=$1 log=$2
	"${TRACER_PIN[@]}" env --default-signal=INT bash -c "exec ${COND_CMDS[$i]}" >"$log" 2>&1 &
	TRACER_PID=$!
}

wait_until_ready() {
	local i=$1 log=$2 deadline=$((SECONDS + READY_TIMEOUT_S))
	until grep -qF -- "${COND_READY[$i]}" "$log"; do
		if ! kill -0 "$TRACER_PID" 2>/dev/null; then
			wait "$TRACER_PID" || true
			TRACER_PID=''
			die "${COND_NAMES[$i]} exited before it printed '${COND_READY[$i]}';" \
				"its log: $(tail -n 5 "$log")"
		fi
		((SECONDS < deadline)) ||
			die "${COND_NAMES[$i]} did not print '${COND_READY[$i]}' within $READY_TIMEOUT_S s"
		sleep "$POLL_S"
	done
}

run_loop() {
	"$WRITELOOP" --count "$COUNT" --size "$WRITE_SIZE" --cpu "$LOOP_CPU" --file "$BENCH_FILE"
}

# Sets NS_PER_WRITE to the loop's figure under condition $1.
measure_condition() {
	local i=$1 log status=0
	log=$WORK/${COND_NAMES[$i]}.log
	if [[ -z ${COND_CMDS[$i]} ]]; then
		NS_PER_WRITE=$(run_loop)
		return
	fi
	start_tracer "$i" "$log"
	wait_until_ready "$i" "$log"
	sleep "$ATTACH_GRACE_S"
	NS_PER_WRITE=$(run_loop)
	stop_process "$TRACER_PID" || status=$?
	TRACER_PID=''
	# 130 (128 + SIGINT) is how perf record reports a Ctrl-C that it handled.
	((status == 0 || status == 130)) ||
		echo "bench.sh: warning: ${COND_NAMES[$i]} exited with status $status after SIGINT" >&2
}

# ---- figures ----

median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END {
			if (NR % 2)
				printf "%.1f\n", v[(NR + 1) / 2]
			else
				printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
		}'
}

# Prints the awk expression $2 in printf format $1; parenthesised, since in awk's printf a bare
# ">" would redirect the output.
calc() {
	awk "BEGIN { printf \"$1\n\", ($2) }"
}

declare -A RAW    # RAW[round,index]: ns/write
declare -A MEDIAN # MEDIAN[index]

print_round_header() {
	local i
	printf '%-6s %-34s' round order
	for i in "${SELECTED[@]}"; do
		printf ' %12s' "${COND_NAMES[$i]}"
	done
	printf '\n'
}

print_round() {
	local r=$1 order=$2 i
	printf '%-6s %-34s' "$((r + 1))" "$order"
	for i in "${SELECTED[@]}"; do
		printf ' %12s' "${RAW[$r,$i]}"
	done
	printf '\n'
}

run_rounds() {
	local n=${#SELECTED[@]} r j i order
	print_round_header
	for ((r = 0; r < ROUNDS; r++)); do
		order=''
		for ((j = 0; j < n; j++)); do
			i=${SELECTED[(r + j) % n]}
			order+=${order:+,}${COND_NAMES[$i]}
			sleep "$SETTLE_S"
			measure_condition "$i"
			RAW[$r,$i]=$NS_PER_WRITE
		done
		print_round "$r" "$order"
	done
}

compute_medians() {
	local i r values
	for i in "${SELECTED[@]}"; do
		values=()
		for ((r = 0; r < ROUNDS; r++)); do
			values+=("${RAW[$r,$i]}")
		done
		MEDIAN[$i]=$(median "${values[@]}")
	done
}

# Prints what condition $1 adds per write over the baseline, or - when either was not run.
added() {
	local base
	base=$(condition_index "$BASELINE")
	if [[ -z ${MEDIAN[$base]:-} || -z ${MEDIAN[$1]:-} || $1 == "$base" ]]; then
		echo -
	else
		calc '%.1f' "${MEDIAN[$1]} - ${MEDIAN[$base]}"
	fi
}

ratio_to_reference() {
	local ref added_here added_ref
	ref=$(condition_index "$REFERENCE")
	added_here=$(added "$1")
	added_ref=$(added "$ref")
	if [[ $added_here == - || $added_ref == - || $(calc '%d' "$added_ref > 0") == 0 ]]; then
		echo -
	else
		calc '%.2fx' "$added_here / $added_ref"
	fi
}

print_summary() {
	local i ref verdict
	printf '\n%-18s %-26s %-16s %s\n' condition "ns/write (median of $ROUNDS)" 'added ns/write' \
		"vs $REFERENCE"
	for i in "${SELECTED[@]}"; do
		printf '%-18s %-26s %-16s %s\n' "${COND_NAMES[$i]}" "${MEDIAN[$i]}" "$(added "$i")" \
			"$(ratio_to_reference "$i")"
	done
	ref=$(condition_index "$REFERENCE")
	[[ $(added "$ref") != - ]] || return 0
	for i in "${SELECTED[@]}"; do
		[[ ${COND_NAMES[$i]} == writeamp* ]] || continue
		if [[ $(calc '%d' "$(added "$i") < $(added "$ref")") == 1 ]]; then
			verdict=yes
		else
			verdict=NO
		fi
		printf '%s adds less per write than the %s one-liner: %s (%s vs %s ns/write)\n' \
			"${COND_NAMES[$i]}" "$REFERENCE" "$verdict" "$(added "$i")" "$(added "$ref")"
	done
}

# ---- writeamp's own CPU use ----

# Prints utime + stime of process $1 in clock ticks, or fails once it is gone.
cpu_ticks() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) } # comm, in parentheses, may hold spaces
	read -ra fields <<<"$stat"
	# fields[0] is field 3 of proc(5), so utime (14) and stime (15) are at 11 and 12
	echo $((fields[11] + fields[12]))
}

now_s() {
	date +%s.%N
}

# writeamp runs `report -d 10` while the loop writes on the other CPU. Two figures: the whole
# run (bash's time, from the kernel's rusage, so startup, BPF load and the final report count)
# and the attached phase alone (/proc samples from the ready line to the last sample before it
# exits, 10 ms tick resolution). The BPF programs' own cost is not in either: it is charged to
# the writer, in whose syscalls they run, and shows in the ns/write figures above.
measure_writeamp_cpu() {
	local log=$WORK/cpu.log timefile=$WORK/cpu.time sub wpid ticks t0 c0 t1 c1 real user sys
	local hz
	hz=$(getconf CLK_TCK)
	"$WRITELOOP" --seconds "$CPU_LOOP_S" --cpu "$LOOP_CPU" --file "$BENCH_FILE" >/dev/null &
	LOOP_PID=$!
	(
		TIMEFORMAT='%3R %3U %3S'
		time "${TRACER_PIN[@]}" env --default-signal=INT "$WRITEAMP" report -d "$CPU_TRACE_S" \
			>/dev/null 2>"$log"
	) 2>"$timefile" &
	sub=$!
	TRACER_PID=$sub
	wait_until_ready "$(condition_index writeamp)" "$log"
	wpid=$(awk '{ print $1 }' "/proc/$sub/task/$sub/children" 2>/dev/null)
	[[ -n $wpid ]] || die "could not find writeamp's pid under its timing subshell $sub"
	WRITEAMP_PID=$wpid
	t0=$(now_s)
	c0=$(cpu_ticks "$wpid") || die "writeamp exited before its CPU use could be sampled"
	t1=$t0
	c1=$c0
	while ticks=$(cpu_ticks "$wpid"); do
		t1=$(now_s)
		c1=$ticks
		sleep "$POLL_S"
	done
	WRITEAMP_PID=''
	wait "$sub" || die "writeamp report -d $CPU_TRACE_S failed; its log: $(tail -n 5 "$log")"
	TRACER_PID=''
	wait "$LOOP_PID" || true
	LOOP_PID=''
	read -r real user sys <"$timefile" || die "no timing from bash's time in $timefile"

	local whole attached cpu_s wall_s
	whole=$(calc '%.2f' "($user + $sys) / $real * 100")
	cpu_s=$(calc '%.2f' "($c1 - $c0) / $hz")
	wall_s=$(calc '%.1f' "$t1 - $t0")
	printf '\nwriteamp report -d %s beside a %s s write loop on CPU %s:\n' "$CPU_TRACE_S" \
		"$CPU_LOOP_S" "$LOOP_CPU"
	printf '  whole run:      %ss user + %ss sys over %ss = %s%% of one core; under %s%%: %s\n' \
		"$user" "$sys" "$real" "$whole" "$CPU_LIMIT_PCT" "$(under_limit "$whole")"
	if [[ $(calc '%d' "$wall_s > 0") == 0 ]]; then
		printf '  while attached: writeamp exited as soon as it attached\n'
		return
	fi
	attached=$(calc '%.2f' "$cpu_s / $wall_s * 100")
	printf '  while attached: %ss user + sys over %ss = %s%% of one core; under %s%%: %s\n' \
		"$cpu_s" "$wall_s" "$attached" "$CPU_LIMIT_PCT" "$(under_limit "$attached")"
}

under_limit() {
	if [[ $(calc '%d' "$1 < $CPU_LIMIT_PCT") == 1 ]]; then
		echo yes
	else
		echo NO
	fi
}

# A busybox container that only sleeps: the filtered condition's target.
start_idle_container() {
	command -v podman >/dev/null || die "podman not found (Debian packages podman runc)"
	mkdir -p "$WORK/rootfs/bin"
	cp /bin/busybox "$WORK/rootfs/bin/busybox"
	IDLE_CONTAINER=writeamp-bench-idle-$$
	export IDLE_CONTAINER
	podman --runtime runc run -d --rm --name "$IDLE_CONTAINER" --network none \
		--ulimit nofile=20000:20000 --ulimit nproc=1000:1000 --rootfs "$WORK/rootfs" \
		/bin/busybox sleep 100000 >/dev/null || die "cannot start the idle container"
}

main() {
	parse_args "$@"
	select_conditions
	cd "$REPO_ROOT"
	check_requirements
	warn_about_attached_programs
	choose_cpus
	WORK=$(mktemp -d /dev/shm/writeamp-bench.XXXXXX 2>/dev/null || mktemp -d)
	export WORK
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	if [[ ",$CONDITIONS," == *,writeamp-idle-container,* ]]; then
		start_idle_container
	fi

	local fs
	fs=$(findmnt -no FSTYPE,SOURCE -T "$(dirname "$BENCH_FILE")" | tr -s ' ')
	printf '%s x %d-byte write() to %s (%s), loop on CPU %s, tracers on CPU %s, %s rounds,' \
		"$COUNT" "$WRITE_SIZE" "$BENCH_FILE" "$fs" "$LOOP_CPU" "$TRACER_CPU" "$ROUNDS"
	printf ' kernel %s\n\n' "$(uname -r)"
	run_rounds
	compute_medians
	print_summary
	if uses_writeamp; then
		measure_writeamp_cpu
	fi
}

main "$@"
