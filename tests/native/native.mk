# The native tier: tiny guests on this host's /dev/kvm (PVM included). Each
# tests/native/test_*.c is its own binary, linked with the shared helpers
# and guest snippets.
NATIVE_HELPERS := tests/native/native.c $(wildcard tests/native/*.S)
NATIVE_TESTS   := $(wildcard tests/native/test_*.c)
NATIVE_BINS    := $(NATIVE_TESTS:%.c=$(BUILD)/%)
NATIVE_BIN     := $(BUILD)/tests/native/test_native

$(BUILD)/tests/native/test_%: tests/native/test_%.c $(NATIVE_HELPERS) tests/native/native.h \
		$(LIBARCVM)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(NATIVE_HELPERS) $(LIBARCVM) $(LIB_LIBS) -lcmocka $(LDFLAGS)

test-native: $(NATIVE_BINS)
	@set -e; for t in $(NATIVE_BINS); do $$t; done
