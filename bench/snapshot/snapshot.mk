# `make bench-snapshot`: snapshot restore latency. Native: a tiny guest on
# this host's /dev/kvm, arcvm_vm_restore() to the guest's first instruction
# (bench/snapshot/snap_native.c). Linux (test host): restore to a console that
# answers against a cold boot to the same point, and the VMM's memory overhead
# while snapshotting (bench/snapshot/snap_linux.py). Rewrites the Snapshots
# section of bench/RESULTS.md.

SNAP_BENCH_RUNS   ?= 25
SNAP_BENCH_ROUNDS ?= 5
SNAP_BENCH_OUT    := $(BUILD)/bench/results/snapshot

$(BUILD)/bench/snap_native: bench/snapshot/snap_native.c $(LIBARCVM)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIBARCVM) $(LIB_LIBS) $(LDFLAGS)

.PHONY: bench-snapshot
bench: bench-snapshot
bench-snapshot: all guest testhost $(BUILD)/bench/snap_native $(SNAPCTL)
	bench/snapshot/run.sh $(BUILD) $(SNAP_BENCH_OUT) $(SNAP_BENCH_RUNS) $(SNAP_BENCH_ROUNDS)
