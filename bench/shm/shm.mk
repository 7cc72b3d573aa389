# `make bench-shm`: moving data from the host into a guest through shared
# memory, a 9p share and vsock in the same run, against a host memcpy
# (bench/shm/shm_bench.sh); rewrites the SHM section of bench/RESULTS.md. The
# issue's 1 GiB is the default; under the nested test host a shorter run is
# SHM_BENCH_ARGS="--mib 256".

SHM_BENCH_ARGS ?=
SHMCOPY := $(BUILD)/bench/shmcopy

$(SHMCOPY): bench/shm/shmcopy.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=gnu11 -D_GNU_SOURCE $(WARN) -o $@ $<

.PHONY: bench-shm
bench: bench-shm
bench-shm: all guest testhost $(SHMCOPY)
	bench/shm/shm_bench.sh $(BUILD) $(BUILD)/bench/results/shm $(SHM_BENCH_ARGS) \
		--results bench/RESULTS.md
