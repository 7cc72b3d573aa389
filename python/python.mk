# python/: the pure-Python ionvm package (writes .ionc classes and IonPacks),
# its tests, and the IonVM benchmarks against Lua 5.4 and Erlang/OTP.
#
#   make test-ionpy    pytest: encoder/pack unit tests + end-to-end runs of ionvm
#   make bench-ion     bench/ion/run.py: figures into bench/RESULTS.md (IonVM)
#
# The tests find the VM through IONVM and ion/opcodes.h through ION_ROOT.

IONVM_BIN       ?= $(BUILD)/ion/ionvm
BENCH_ION_FLAGS ?= --repeat 3

.PHONY: test-ionpy bench-ion
test-ionpy: ion
	IONVM=$(abspath $(IONVM_BIN)) ION_ROOT=$(CURDIR) $(PYTHON) -m pytest -q python/tests

bench-ion: ion
	$(PYTHON) bench/ion/run.py --ionvm $(abspath $(IONVM_BIN)) --results bench/RESULTS.md \
		--label "$$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" $(BENCH_ION_FLAGS)

