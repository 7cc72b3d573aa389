# The Debian images the Linux tier boots with arcvm exec --image. `arcvm
# image` caches each by its inputs, so each is built once (debootstrap, as
# root, from the mirror apt uses) and copied after.
#   debian.ext4        minbase (tests/linux/test_image.py)
#   debian-build.ext4  gcc, make and the libraries arcvm's build links: the
#                      clean-build use case (tests/linux/test_usecase_build.py)
#   debian-kmod.ext4   gcc, make and the guest kernel's linux-headers: the
#                      crash-a-driver use case (tests/linux/test_usecase_kmod.py)
DEBIAN_TEST_IMAGE := $(BUILD)/tests/linux/debian.ext4
DEBIAN_BUILD_IMAGE := $(BUILD)/tests/linux/debian-build.ext4
DEBIAN_KMOD_IMAGE := $(BUILD)/tests/linux/debian-kmod.ext4
DEBIAN_BUILD_PKGS := gcc,make,libc6-dev,libcjson-dev,libhttp-parser-dev,libslirp-dev,libzip-dev,zlib1g-dev

$(DEBIAN_TEST_IMAGE): $(ARCVM) $(GUEST_AGENT) $(GUEST_INITRD)
	@mkdir -p $(dir $@)
	$(ARCVM) image debian --size 1G -o $@

$(DEBIAN_BUILD_IMAGE): $(ARCVM) $(GUEST_AGENT) $(GUEST_INITRD)
	@mkdir -p $(dir $@)
	$(ARCVM) image debian --packages $(DEBIAN_BUILD_PKGS) --size 2G -o $@

# The headers must be the running guest kernel's: the release comes from
# the kernel package `make guest` unpacked.
$(DEBIAN_KMOD_IMAGE): $(ARCVM) $(GUEST_AGENT) $(GUEST_INITRD) $(GUEST_RELEASE)
	@mkdir -p $(dir $@)
	$(ARCVM) image debian --packages make,gcc,libc6-dev,kmod,linux-headers-$$(cat $(GUEST_RELEASE)) \
		--size 2G -o $@

test-linux: $(DEBIAN_TEST_IMAGE) $(DEBIAN_BUILD_IMAGE) $(DEBIAN_KMOD_IMAGE)
test-cli: $(DEBIAN_TEST_IMAGE)
