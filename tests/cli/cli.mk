# CLI tests that run on this host's /dev/kvm (PVM included), with tiny
# firmware images instead of Linux: exit statuses, the console, signals.
CLI_FW_VARIANTS := HELLO ECHO SPIN RESET TRIPLE
CLI_FW := $(CLI_FW_VARIANTS:%=$(BUILD)/tests/cli/fw-%.bin)

$(BUILD)/tests/cli/fw-%.bin: tests/cli/fw.S
	@mkdir -p $(dir $@)
	$(CC) -c -D$* -o $(@:.bin=.o) $<
	ld -Ttext=0 -o $(@:.bin=.elf) $(@:.bin=.o)   # labels are offsets in the F000 segment
	objcopy -O binary -j .text $(@:.bin=.elf) $@

.PHONY: test-cli
test-cli: $(ARCVM) $(CLI_FW) $(SNAPCTL)
	BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -p no:cacheprovider -q tests/cli
