# writeamp: `make` builds the tool, the test programs and the benchmark loop; `make test` runs
# every test (unit tests need nothing; live tests need root and a BTF kernel).
OUTPUT ?= .output
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= gcc
PYTHON ?= python3
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/')

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Wshadow -Wformat=2
INCLUDES := -I$(OUTPUT) -Isrc
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Wno-unused-function
LDLIBS := -lbpf -ldw -lelf -lz -lm -ljansson
TEST_LDLIBS := -lcmocka

BPF_SRCS := $(wildcard src/bpf/*.bpf.c)
BPF_OBJS := $(patsubst src/bpf/%.bpf.c,$(OUTPUT)/bpf/%.bpf.o,$(BPF_SRCS))
LIB_SRCS := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJS := $(patsubst src/%.c,$(OUTPUT)/%.o,$(LIB_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
TOOLS := $(OUTPUT)/tests/workload $(OUTPUT)/tests/workload-static $(OUTPUT)/bench/writeloop \
	$(OUTPUT)/bench/floor $(OUTPUT)/bench/floor.bpf.o $(OUTPUT)/tests/chain-nofp \
	$(OUTPUT)/tests/chain-fp

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.PHONY: all clean test unit live format bench

all: writeamp $(UNIT_BINS) $(TOOLS)

$(OUTPUT) $(OUTPUT)/bpf $(OUTPUT)/tests $(OUTPUT)/bench:
	$(Q)mkdir -p $@

$(OUTPUT)/vmlinux.h: $(VMLINUX_BTF) | $(OUTPUT)
	$(call msg,BTF,$@)
	$(Q)$(BPFTOOL) btf dump file $< format c > $@

$(OUTPUT)/bpf/%.bpf.o: src/bpf/%.bpf.c src/writeamp.h $(wildcard src/bpf/*.bpf.h) $(OUTPUT)/vmlinux.h | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(INCLUDES) -c $< -o $@

# The layers are separate objects; bpftool links them into one object and one skeleton.
$(OUTPUT)/writeamp.bpf.o: $(BPF_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(OUTPUT)/writeamp.skel.h: $(OUTPUT)/writeamp.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name writeamp_bpf > $@

$(OUTPUT)/tracer.o: $(OUTPUT)/writeamp.skel.h

$(OUTPUT)/%.o: src/%.c $(wildcard src/*.h) src/writeamp.h | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -c $< -o $@

$(OUTPUT)/libwriteamp.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

writeamp: $(OUTPUT)/main.o $(OUTPUT)/libwriteamp.a
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/tests/test_%: tests/unit/test_%.c $(OUTPUT)/libwriteamp.a | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $< $(OUTPUT)/libwriteamp.a $(TEST_LDLIBS) $(LDLIBS) -o $@

$(OUTPUT)/tests/workload: tests/workload/workload.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

# Static, so that it runs inside a busybox container root that has no libc.
$(OUTPUT)/tests/workload-static: tests/workload/workload.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -static -pthread $< -o $@

# The same call chain with and without frame pointers, for the two ways of unwinding.
$(OUTPUT)/tests/chain-nofp: tests/workload/chain.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -fomit-frame-pointer $< -o $@

$(OUTPUT)/tests/chain-fp: tests/workload/chain.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer $< -o $@

$(OUTPUT)/bench/writeloop: bench/writeloop.c | $(OUTPUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

# Empty programs on writeamp's syscall hooks: the benchmark's floor for them.
$(OUTPUT)/bench/floor.bpf.o: bench/floor.bpf.c $(OUTPUT)/vmlinux.h | $(OUTPUT)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(INCLUDES) -c $< -o $@

$(OUTPUT)/bench/floor: bench/floor.c | $(OUTPUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -lbpf -o $@

test: all
	$(Q)$(PYTHON) tests/run.py

unit: $(UNIT_BINS)
	$(Q)$(PYTHON) tests/run.py --unit-only

live: all
	$(Q)$(PYTHON) tests/run.py --live-only

bench: all
	$(Q)bench/bench.sh

format:
	$(Q)clang-format -i src/*.c src/*.h src/bpf/*.c src/bpf/*.h tests/unit/*.c tests/workload/*.c bench/*.c

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf $(OUTPUT) writeamp
