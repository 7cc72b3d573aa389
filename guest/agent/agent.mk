# arcvm-init, the guest agent: a static binary that is PID 1 of the exec
# initramfs and serves the exec protocol (docs/exec-protocol.md) on vsock.
# Included from guest/guest.mk. proto.c is also linked into the host's arcvm.

AGENT_SRCS := $(wildcard guest/agent/*.c)
GUEST_AGENT := $(BUILD)/guest/arcvm-init

# It links libion for CALL (guest/agent/call.c). Only the objects it uses
# are pulled from the archive: the pack reader (pack.o, libzip, which Debian
# ships only as a shared library) is not among them, since the host opens
# the pack and sends its classes.
$(GUEST_AGENT): $(AGENT_SRCS) $(wildcard guest/agent/*.h) guest/agent/agent.mk $(BUILD)/ion/libion.a
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -s -std=gnu11 -D_GNU_SOURCE $(WARN) -I. -o $@ $(AGENT_SRCS) $(BUILD)/ion/libion.a -lm

# The initramfs carries it as /sbin/arcvm-init (mkinitrd.sh copies the file
# named by ARCVM_INIT_BIN when set).
$(GUEST_INITRD): $(GUEST_AGENT)
$(GUEST_INITRD): export ARCVM_INIT_BIN = $(GUEST_AGENT)

# The host side of the protocol: the same encoder/decoder in the arcvm binary.
# (The link recipe expands CLI_OBJS when it runs, so appending here works.)
CLI_OBJS += $(BUILD)/guest/agent/proto.o
$(ARCVM): $(BUILD)/guest/agent/proto.o
-include $(BUILD)/guest/agent/proto.d

# The session test drives the real agent over a socketpair.
$(BUILD)/tests/unit/test_exec_session: $(GUEST_AGENT)
