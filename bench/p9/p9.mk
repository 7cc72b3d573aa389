# `make bench-p9`: arcvm's 9p server against QEMU's, copying a large file and
# untarring many small ones in a share (bench/p9/p9_bench.sh); rewrites the 9p
# section of bench/RESULTS.md. The issue's sizes are the defaults; under the
# nested test host a smaller run is P9_BENCH_ARGS="--copy-mib 256 --files 1000".

P9_BENCH_ARGS ?=

.PHONY: bench-p9
bench: bench-p9
bench-p9: all guest testhost
	bench/p9/p9_bench.sh $(BUILD) $(BUILD)/bench/results/p9 $(P9_BENCH_ARGS) \
		--results bench/RESULTS.md
