# `make bench-exec`: arcvm exec -- true against QEMU microvm running the same
# true (bench/exec/exec_bench.sh); rewrites the exec section of
# bench/RESULTS.md. EXEC_BENCH_RUNS runs each (the issue asks for >= 20).

EXEC_BENCH_RUNS ?= 21

.PHONY: bench-exec
bench: bench-exec
bench-exec: all guest testhost
	bench/exec/exec_bench.sh $(BUILD) $(BUILD)/bench/results/exec --runs $(EXEC_BENCH_RUNS) \
		--results bench/RESULTS.md
