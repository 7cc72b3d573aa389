# The native tier: tiny guests on this host's /dev/kvm (PVM included).
NATIVE_SRCS := $(wildcard tests/native/*.c) tests/native/guest_code.S
NATIVE_BIN  := $(BUILD)/tests/native/test_native

$(NATIVE_BIN): $(NATIVE_SRCS) tests/native/native.h $(LIBARCVM)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(NATIVE_SRCS) $(LIBARCVM) $(LIB_LIBS) -lcmocka $(LDFLAGS)

test-native: $(NATIVE_BIN)
	$(NATIVE_BIN)
