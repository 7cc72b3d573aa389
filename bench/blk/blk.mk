# Block device benchmark: arcvm's virtio-blk against QEMU microvm's on the
# same image, in one run (bench/blk/blk_bench.py). `make bench-blk` prints the
# table and leaves results.md / results.json in $(BLK_BENCH_DIR)/out.
# BLK_BENCH_ARGS passes options to blk_bench.py (e.g. --runs 5 --mib 256).
#
#   $(BLK_BENCH_DIR)/blkio            the guest's O_DIRECT timer (static)
#   $(BLK_BENCH_DIR)/initrd.cpio.gz   the guest initramfs + /bin/blkio

BLK_BENCH_DIR    := $(BUILD)/bench/blk
BLK_BENCH_BLKIO  := $(BLK_BENCH_DIR)/blkio
BLK_BENCH_INITRD := $(BLK_BENCH_DIR)/initrd.cpio.gz
BLK_BENCH_ARGS   ?=

.PHONY: bench-blk

$(BLK_BENCH_BLKIO): bench/blk/blkio.c bench/blk/blk.mk
	@mkdir -p $(dir $@)
	$(CC) -O2 -static -std=gnu11 -pthread $(WARN) -o $@ $<

# The kernel takes concatenated cpio archives: the guest's initramfs, then
# one holding /bin/blkio.
$(BLK_BENCH_INITRD): $(BUILD)/guest/initrd.cpio.gz $(BLK_BENCH_BLKIO)
	rm -rf $@.d && mkdir -p $@.d/bin
	cp $(BLK_BENCH_BLKIO) $@.d/bin/blkio
	(cd $@.d && find bin/blkio | cpio -o -H newc -R 0:0 --quiet) | gzip -9n >$@.tail
	cat $(BUILD)/guest/initrd.cpio.gz $@.tail >$@.tmp && rm $@.tail && mv $@.tmp $@

bench-blk: all guest testhost $(BLK_BENCH_INITRD)
	bench/blk/run.sh $(BLK_BENCH_DIR)/out $(BLK_BENCH_ARGS)
