# Host-side tests of `arcvm api` (Firecracker's REST API): no Linux boot; a
# tiny ELF guest (tests/api/guest.S) stands in for the kernel where a VM must run.
API_GUEST := $(BUILD)/tests/api/guest.elf

$(API_GUEST): tests/api/guest.S
	@mkdir -p $(dir $@)
	$(CC) -c -o $(@:.elf=.o) $<
	ld -N -static -nostdlib --no-warn-rwx-segments -Ttext=0x100000 -e _start -o $@ $(@:.elf=.o)

.PHONY: test-api
test-api: $(ARCVM) $(API_GUEST)
	BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -p no:cacheprovider -q tests/api
