# Network benchmark: TCP throughput of arcvm's virtio-net against QEMU
# microvm's, user-mode NAT (libslirp in both) and TAP, guest->host and
# host->guest, in one run (bench/net/net_bench.py). `make bench-net` prints
# the table and leaves results.md / results.json in $(NET_BENCH_DIR)/out.
# NET_BENCH_ARGS passes options to net_bench.py (e.g. --runs 5 --mib 1024).

NET_BENCH_DIR  := $(BUILD)/bench/net
NET_BENCH_ARGS ?=

.PHONY: bench-net
bench: bench-net

bench-net: all guest testhost
	bench/net/run.sh $(NET_BENCH_DIR)/out $(NET_BENCH_ARGS)
