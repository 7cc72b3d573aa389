# arcvm-init, the guest agent: a static binary that is PID 1 of the exec
# initramfs and serves the exec protocol (docs/exec-protocol.md) on vsock.
# Included from guest/guest.mk. proto.c is also linked into the host's arcvm.

AGENT_SRCS := $(wildcard guest/agent/*.c)
GUEST_AGENT := $(BUILD)/guest/arcvm-init

$(GUEST_AGENT): $(AGENT_SRCS) $(wildcard guest/agent/*.h) guest/agent/agent.mk
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -s -std=gnu11 -D_GNU_SOURCE $(WARN) -o $@ $(AGENT_SRCS)

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
