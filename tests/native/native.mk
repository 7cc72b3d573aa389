# The native tier: tiny guests on this host's /dev/kvm (PVM included). Each
# test_*.c is its own cmocka binary sharing native.c and the guest code.
NATIVE_COMMON := tests/native/native.c $(wildcard tests/native/*.S)
NATIVE_BINS   := $(patsubst tests/native/%.c,$(BUILD)/tests/native/%,$(wildcard tests/native/test_*.c))
NATIVE_BIN    := $(BUILD)/tests/native/test_native

$(BUILD)/tests/native/test_%: tests/native/test_%.c $(NATIVE_COMMON) tests/native/native.h $(LIBARCVM)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(NATIVE_COMMON) $(LIBARCVM) $(LIB_LIBS) -lcmocka $(LDFLAGS)

test-native: $(NATIVE_BINS)
	@set -e; for t in $(NATIVE_BINS); do $$t; done
