# The Debian image the Linux tier boots with arcvm exec --image
# (tests/linux/test_image.py). `arcvm image` caches it by its inputs, so it is
# built once (debootstrap, as root, from the mirror apt uses) and copied after.
DEBIAN_TEST_IMAGE := $(BUILD)/tests/linux/debian.ext4

$(DEBIAN_TEST_IMAGE): $(ARCVM) $(GUEST_AGENT) $(GUEST_INITRD)
	@mkdir -p $(dir $@)
	$(ARCVM) image debian --size 1G -o $@

test-linux: $(DEBIAN_TEST_IMAGE)
test-cli: $(DEBIAN_TEST_IMAGE)
