# arcvm build. `make` builds the library and the tools, `make guest` the guest image;
# `make run` boots it; `make test` runs every test tier; `make bench` measures.
#
# Sources are found by folder, so a new file in a library folder is built
# without touching this file. Subsystems with their own steps keep them in a
# fragment (*.mk) included below.

BUILD   ?= build
CC      ?= gcc
PYTHON  ?= /usr/bin/python3
WARN    := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wvla
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -D_GNU_SOURCE -pthread -fPIC $(WARN) -I. -Iinclude $(EXTRA_CFLAGS)
LDFLAGS += -pthread $(EXTRA_LDFLAGS)

LIB_DIRS  := util hv vmm arch/x86 devices virtio io p9 call
LIB_SRCS  := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
# arcvm_call() (call/) speaks the agent protocol and opens IonPacks: the
# protocol's encoder and the IonVM library (built by ion/ion.mk) go into
# the archive too, so a library user links only the system libraries.
LIB_OBJS  += $(BUILD)/guest/agent/proto.o \
             $(patsubst %.c,$(BUILD)/ion/obj/%.o,$(wildcard ion/*.c))
LIB_LIBS  := -lcjson -lz -lslirp -lzip -lm
CLI_LIBS  := -lhttp_parser
LIBARCVM  := $(BUILD)/libarcvm.a

CLI_SRCS  := $(wildcard cli/*.c) $(wildcard api/*.c)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/%.o)
ARCVM     := $(BUILD)/arcvm

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:%.c=$(BUILD)/%)

.PHONY: all arcvm deps run test test-unit test-native test-linux test-huge bench asan fuzz clean guest
all: $(LIBARCVM) $(ARCVM)

# Only the arcvm binary: no Debian packages installed, no guest, nothing
# else built (e.g. `make -C /src BUILD=/tmp/b arcvm` in a VM that has only
# gcc, make and the -dev packages of LIB_LIBS and CLI_LIBS).
arcvm: $(ARCVM)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIBARCVM): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(ARCVM): $(CLI_OBJS) $(LIBARCVM)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIBARCVM) $(LIB_LIBS) $(CLI_LIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIBARCVM)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $< $(LIBARCVM) $(LIB_LIBS) -lcmocka $(LDFLAGS)

# Debian packages the build and the tests need; installed when missing.
deps:
	@scripts/deps.sh

run: deps all guest testhost
	@scripts/run-demo.sh

# Every tier: unit (+ a short fuzz run), IonVM (C suite, also with a GC on
# every allocation, and the Python builder end to end), native (tiny guests on this host's /dev/kvm), CLI (arcvm
# run with firmware images), the API (arcvm api on its socket, tiny guests),
# the test host's self-test, Linux (Debian's
# kernel, in the test host where this KVM cannot boot it).
test: deps all guest
	$(MAKE) test-unit
	$(MAKE) fuzz FUZZ_SECONDS=5
	$(MAKE) test-ion
	$(MAKE) test-ion-gcstress
	$(MAKE) test-ionpy
	$(MAKE) test-native
	$(MAKE) test-cli
	$(MAKE) test-api
	$(MAKE) test-testhost
	$(MAKE) test-linux

# The 1 GiB host-to-guest shared-memory test (marked huge) takes about 6
# minutes in the test host; make test-huge runs it (make bench-shm moves a GiB
# too). The guest-to-host GiB (2 minutes) is part of make test.
test-linux: all guest testhost
	@scripts/test-linux.sh tests/linux -m "not huge"

test-huge: all guest testhost
	@scripts/test-linux.sh tests/linux/test_shm.py -m huge

test-unit: $(UNIT_BINS)
	@scripts/run-unit.sh $(UNIT_BINS)

# Sanitizer build of the whole tree into its own folder.
asan:
	$(MAKE) BUILD=build-asan EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" all test-unit test-native

clean:
	rm -rf $(BUILD) build-asan

# Every benchmark: the VMM against QEMU microvm (start-up, exits, Linux boot),
# block I/O, networking, arcvm exec, snapshots, and IonVM against Lua 5.4 and Erlang.
bench: bench-vmm bench-blk bench-net bench-exec bench-ion bench-snapshot

-include $(wildcard */*.mk) $(wildcard tests/*/*.mk) $(wildcard bench/*/*.mk)
-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(UNIT_BINS:=.d)
