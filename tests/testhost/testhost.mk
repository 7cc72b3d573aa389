# The test host: a QEMU TCG machine with emulated SVM + nested paging whose
# Debian kernel runs kvm-amd, for tests that must boot an unmodified Linux
# guest where the real /dev/kvm cannot (PVM). See docs/testhost.md.
#
#   make testhost        builds $(TESTHOST_INITRD) (and the guest kernel)
#   make test-testhost   runs tests/testhost/selftest.sh

TESTHOST_DIR    := $(BUILD)/testhost
TESTHOST_INITRD := $(TESTHOST_DIR)/L1.cpio.gz

# Modules L1's /init loads, with their dependencies (resolved from
# modules.dep): kvm for nested guests, 9p over virtio-pci for the host's
# filesystem and the shares, virtio_console for the command's stdout/stderr,
# tun for the networking tests' TAP devices (tests/linux/test_net.py).
TESTHOST_MODULES := kvm-amd virtio_pci 9pnet_virtio 9p virtio_console tun

.PHONY: testhost test-testhost

testhost: $(TESTHOST_INITRD) $(BUILD)/guest/vmlinux

$(TESTHOST_INITRD): $(BUILD)/guest/kernel.release tests/testhost/l1-init.sh \
		tests/testhost/testhost.mk guest/mkinitrd.sh guest/modorder.py guest/devnodes.py
	@mkdir -p $(dir $@)
	guest/mkinitrd.sh $@ tests/testhost/l1-init.sh \
		$(BUILD)/guest/modules/lib/modules/$$(cat $(BUILD)/guest/kernel.release) $(TESTHOST_MODULES)

test-testhost: testhost guest
	TESTHOST_BUILD=$(abspath $(BUILD)) tests/testhost/selftest.sh
