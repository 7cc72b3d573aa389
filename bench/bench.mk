# Benchmarks. `make bench` measures arcvm against its anchors (DESIGN.md,
# "Measuring") and rewrites the VMM section of bench/RESULTS.md; other parts
# of the file (IonVM) are left as they are.
#
#   make bench          everything below, then the report (~15 min on an idle
#                       2-core machine; more when other test hosts share it)
#   make bench-native   tiny real-mode guest on this host's /dev/kvm: arcvm,
#                       QEMU microvm and a bare KVM_RUN loop (~2 min)
#   make bench-linux    Debian's kernel booted with arcvm and QEMU microvm in
#                       the test host, one test-host boot for the series
#
# Results (JSON, markdown, guest consoles) go to $(BENCH_OUT).

BENCH_DIR       := $(BUILD)/bench
BENCH_OUT       ?= $(BENCH_DIR)/results
# Port writes in the PIO-exit firmware; fw0 runs per VMM (the issue asks for
# >= 20); fwN runs per VMM; Linux boots per configuration (>= 10).
BENCH_LOOPS     ?= 200000
BENCH_RUNS      ?= 25
BENCH_EXIT_RUNS ?= 11
BENCH_BOOTS     ?= 10
# Extra boot_bench.py options, e.g. --lean (QEMU microvm with leaner flags too).
BENCH_LINUX_FLAGS ?=

BENCH_FW    := $(BENCH_DIR)/fw0.bin $(BENCH_DIR)/fw$(BENCH_LOOPS).bin
BENCH_TOOLS := $(BENCH_DIR)/vmmrun $(BENCH_DIR)/bare_kvm $(BENCH_DIR)/rss_baseline $(BENCH_FW)

.PHONY: bench-vmm bench-native bench-linux bench-tools bench-report
bench: bench-vmm

bench-tools: $(BENCH_TOOLS)

# Static, so that what it hands its child at fork is tiny (see vmmrun.c).
$(BENCH_DIR)/vmmrun: bench/vmmrun.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -static $(WARN) -o $@ $<

# No arcvm code and no arcvm flags: the floor to compare arcvm's exits with.
$(BENCH_DIR)/bare_kvm: bench/native/bare_kvm.c
	@mkdir -p $(dir $@)
	$(CC) -O2 $(WARN) -o $@ $<

# Built like build/arcvm, so its RSS is arcvm's C-runtime floor.
$(BENCH_DIR)/rss_baseline: bench/native/rss_baseline.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

$(BENCH_DIR)/fw%.bin: bench/native/firmware.S
	@mkdir -p $(dir $@)
	$(CC) -c -DLOOPS=$* -o $(BENCH_DIR)/fw$*.o $<
	objcopy -O binary -j .text $(BENCH_DIR)/fw$*.o $@

bench-native: all bench-tools
	@mkdir -p $(BENCH_OUT)
	$(PYTHON) bench/native/native_bench.py --arcvm $(ARCVM) --bare $(BENCH_DIR)/bare_kvm \
		--baseline $(BENCH_DIR)/rss_baseline --vmmrun $(BENCH_DIR)/vmmrun \
		--fw0 $(BENCH_DIR)/fw0.bin --fwn $(BENCH_DIR)/fw$(BENCH_LOOPS).bin \
		--loops $(BENCH_LOOPS) --runs $(BENCH_RUNS) --exit-runs $(BENCH_EXIT_RUNS) \
		--scratch $(BENCH_DIR)/scratch --out $(BENCH_OUT)/native.json

bench-linux: all guest testhost bench-tools
	bench/linux/run_boot_bench.sh $(BUILD) $(BENCH_OUT)/linux --rounds $(BENCH_BOOTS) --profile \
		$(BENCH_LINUX_FLAGS)

bench-vmm: deps
	$(MAKE) bench-native
	$(MAKE) bench-linux
	$(PYTHON) bench/report.py --native $(BENCH_OUT)/native.json --linux $(BENCH_OUT)/linux \
		--notes bench/vmm-notes.md --results bench/RESULTS.md

# The report alone, from the last run's results (after editing vmm-notes.md).
bench-report:
	$(PYTHON) bench/report.py --native $(BENCH_OUT)/native.json --linux $(BENCH_OUT)/linux \
		--notes bench/vmm-notes.md --results bench/RESULTS.md
