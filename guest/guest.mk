# Guest image: Debian's stock kernel (fetched, never installed on the host)
# and the default micro-VM initramfs. Everything lands in $(GUEST_DIR); a
# second `make guest` finds it all up to date and touches no network.
#
#   $(GUEST_DIR)/vmlinuz           bzImage from linux-image-amd64
#   $(GUEST_DIR)/vmlinux           the ELF kernel inside it (boots without
#                                  in-guest decompression)
#   $(GUEST_DIR)/modules/lib/modules/<version>/   with depmod's indexes
#   $(GUEST_DIR)/kernel.release    <version>
#   $(GUEST_DIR)/initrd.cpio.gz    busybox + guest/init.sh + GUEST_MODULES
#   $(GUEST_DIR)/load-order        their insmod order (/lib/modules/<version>/...),
#                                  which `arcvm image debian` gives arcvm-init
#   $(GUEST_DIR)/arcvm-net         guest/net-up.sh, and
#   $(GUEST_DIR)/busybox           the initramfs's busybox, which `arcvm image
#                                  debian` installs for it (ip, udhcpc)
#   $(GUEST_DIR)/rootfs.ext4       busybox ext4 root image (GUEST_ROOTFS_SIZE),
#                                  guest/init.sh as its /sbin/init; boot it
#                                  with `arcvm run --root COPY` (a copy: the
#                                  guest writes to it)

GUEST_DIR     := $(BUILD)/guest
GUEST_KERNEL  := $(GUEST_DIR)/vmlinuz
GUEST_VMLINUX := $(GUEST_DIR)/vmlinux
GUEST_INITRD  := $(GUEST_DIR)/initrd.cpio.gz
GUEST_RELEASE := $(GUEST_DIR)/kernel.release
GUEST_ROOTFS  := $(GUEST_DIR)/rootfs.ext4
GUEST_ROOTFS_SIZE := 64M

# Modules copied into the initramfs (with their dependencies, resolved from
# modules.dep); /init loads them only when booted with arcvm.modules=1.
GUEST_MODULES := virtio_mmio virtio_blk virtio_console virtio_rng \
                 vsock vmw_vsock_virtio_transport 9p 9pnet_virtio \
                 virtio_net ext4 overlay

.PHONY: guest guest-info

guest: $(GUEST_KERNEL) $(GUEST_VMLINUX) $(GUEST_INITRD) $(GUEST_ROOTFS)

# kernel.release is written last by fetch-kernel.sh; vmlinuz and the
# modules come with it. It depends on nothing, so the kernel is fetched once;
# remove $(GUEST_DIR) to take a newer Debian kernel.
$(GUEST_RELEASE):
	guest/fetch-kernel.sh $(GUEST_DIR)

# Order-only: fetch-kernel.sh writes kernel.release after vmlinuz, so a
# normal prerequisite would make every build re-extract vmlinux.
$(GUEST_KERNEL): | $(GUEST_RELEASE)
	@test -f $@ || { echo "guest: $@ missing; remove $(GUEST_RELEASE) and rerun" >&2; exit 1; }

$(GUEST_VMLINUX): $(GUEST_KERNEL) guest/extract-vmlinux.py
	guest/extract-vmlinux.py $(GUEST_KERNEL) $@

$(GUEST_INITRD): $(GUEST_RELEASE) guest/init.sh guest/mkinitrd.sh guest/modorder.py \
		guest/devnodes.py guest/net-up.sh guest/guest.mk
	guest/mkinitrd.sh $@ guest/init.sh \
		$(GUEST_DIR)/modules/lib/modules/$$(cat $(GUEST_RELEASE)) $(GUEST_MODULES)
	cp $@.d/lib/modules/load-order $(GUEST_DIR)/load-order
	cp $@.d/bin/arcvm-net $@.d/bin/busybox $(GUEST_DIR)/

# The root image has no kernel modules: the initramfs loads them before it
# switches to the disk.
$(GUEST_ROOTFS): guest/init.sh guest/mkrootfs.sh guest/net-up.sh guest/guest.mk
	@mkdir -p $(dir $@)
	guest/mkrootfs.sh $@ guest/init.sh $(GUEST_ROOTFS_SIZE)

guest-info: guest
	@echo "kernel release: $$(cat $(GUEST_RELEASE))"
	@echo "bzImage:        $(GUEST_KERNEL)"
	@echo "vmlinux (ELF):  $(GUEST_VMLINUX)"
	@echo "initramfs:      $(GUEST_INITRD)"
	@echo "root image:     $(GUEST_ROOTFS)"
	@echo "modules:        $(GUEST_DIR)/modules/lib/modules/$$(cat $(GUEST_RELEASE))"

include guest/agent/agent.mk
