# `make bench-call`: arcvm call of a function returning 42, from a boot and
# from --from-snapshot, against arcvm exec -- true in the same series
# (bench/call/call_bench.sh); rewrites the CALL section of bench/RESULTS.md.

CALL_BENCH_RUNS ?= 11

.PHONY: bench-call
bench: bench-call
bench-call: all guest testhost $(SNAPCTL)
	bench/call/call_bench.sh $(BUILD) $(BUILD)/bench/results/call --runs $(CALL_BENCH_RUNS) \
		--results bench/RESULTS.md
