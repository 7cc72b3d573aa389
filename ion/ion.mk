# IonVM: library, tools and C tests (see docs/ionvm-bytecode.md).
#   make ion                 build/ion/libion.a and the ionvm/iondis/ionasm tools
#   make test-ion            cmocka unit tests; ends with "ion: N passed, N failed"
#   make test-ion-gcstress   the same suite with a collection on every allocation
# ION_DIR and ION_EXTRA let one fragment build several flavours side by side.

ION_DIR    ?= $(BUILD)/ion
ION_EXTRA  ?=
ION_CFLAGS  = $(CFLAGS) $(ION_EXTRA)
ION_SRCS   := $(wildcard ion/*.c)
ION_OBJS   := $(ION_SRCS:%.c=$(ION_DIR)/obj/%.o)
ION_LIB    := $(ION_DIR)/libion.a
ION_LIBS   := -lzip -lm
ION_TOOLS  := $(ION_DIR)/ionvm $(ION_DIR)/iondis $(ION_DIR)/ionasm
ION_THELP  := $(ION_DIR)/obj/ion/tests/helpers.o
ION_TESTS  := $(patsubst ion/tests/%.c,$(ION_DIR)/tests/%,$(wildcard ion/tests/test_*.c))

.PHONY: ion test-ion test-ion-gcstress
ion: $(ION_LIB) $(ION_TOOLS)

$(ION_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ION_CFLAGS) -MMD -MP -c $< -o $@

$(ION_LIB): $(ION_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(ION_DIR)/%: $(ION_DIR)/obj/ion/tools/%.o $(ION_LIB)
	$(CC) $(LDFLAGS) -o $@ $< $(ION_LIB) $(ION_LIBS)

$(ION_DIR)/tests/%: $(ION_DIR)/obj/ion/tests/%.o $(ION_THELP) $(ION_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(ION_THELP) $(ION_LIB) $(ION_LIBS) -lcmocka

test-ion: $(ION_TESTS) $(ION_TOOLS)
	@ION_TOOLS_DIR=$(ION_DIR) ion/tests/run.sh $(ION_TESTS)

test-ion-gcstress:
	$(MAKE) ION_DIR=$(BUILD)/ion-gcstress ION_EXTRA=-DION_GC_STRESS test-ion

# Tool and test objects are intermediate; keep them so rebuilds stay incremental.
.PRECIOUS: $(ION_DIR)/obj/%.o

-include $(ION_OBJS:.o=.d) $(wildcard $(ION_DIR)/obj/ion/tools/*.d $(ION_DIR)/obj/ion/tests/*.d)

# The dispatch loop wants one indirect jump per instruction: stop GCC from
# merging the handlers' common tails into a shared jump. Registers are read
# both as words and as doubles, hence no strict aliasing there.
$(ION_DIR)/obj/ion/interp.o: ION_CFLAGS += -fno-crossjumping -fno-gcse -fno-strict-aliasing

# The switch-dispatch fallback (compilers without computed goto) must pass too.
.PHONY: test-ion-switch
test-ion-switch:
	$(MAKE) ION_DIR=$(BUILD)/ion-switch ION_EXTRA=-DION_NO_COMPUTED_GOTO test-ion

# AddressSanitizer + UBSan over the same suite, with and without GC stress.
.PHONY: test-ion-asan
ION_ASAN := -fsanitize=address,undefined -fno-omit-frame-pointer
test-ion-asan:
	$(MAKE) ION_DIR=$(BUILD)/ion-asan ION_EXTRA="$(ION_ASAN)" \
		EXTRA_LDFLAGS=-fsanitize=address,undefined test-ion
	$(MAKE) ION_DIR=$(BUILD)/ion-asan-gcstress ION_EXTRA="$(ION_ASAN) -DION_GC_STRESS" \
		EXTRA_LDFLAGS=-fsanitize=address,undefined test-ion

# libFuzzer targets (clang): `make fuzz-ion` builds them and runs each for
# FUZZ_SECONDS, seeded from ion/tests/fuzz/seed.ionasm.
FUZZ_SECONDS ?= 30
ION_FUZZ_DIR := $(BUILD)/ion-fuzz
ION_FUZZ_FLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined
.PHONY: fuzz-ion
$(ION_FUZZ_DIR)/%: ion/tests/fuzz/%.c $(ION_SRCS)
	@mkdir -p $(dir $@)
	clang $(ION_FUZZ_FLAGS) -o $@ $< $(ION_SRCS) $(ION_LIBS)

fuzz-ion: $(ION_FUZZ_DIR)/fuzz_ionc $(ION_FUZZ_DIR)/fuzz_pack $(ION_FUZZ_DIR)/fuzz_value $(ION_DIR)/ionasm
	@mkdir -p $(ION_FUZZ_DIR)/corpus-ionc $(ION_FUZZ_DIR)/corpus-pack $(ION_FUZZ_DIR)/corpus-value
	printf '%s' '{#P{x/we: [1, 2.5, "a\\x00", ok, 1-2i]}, nil, true, -inf}' > $(ION_FUZZ_DIR)/corpus-value/seed
	$(ION_DIR)/ionasm ion/tests/fuzz/seed.ionasm -o $(ION_FUZZ_DIR)/corpus-pack/seed.ionpack
	grep -v '^.manifest' ion/tests/fuzz/seed.ionasm > $(ION_FUZZ_DIR)/seed-class.ionasm
	$(ION_DIR)/ionasm $(ION_FUZZ_DIR)/seed-class.ionasm -o $(ION_FUZZ_DIR)/corpus-ionc/seed.ionc
	$(ION_FUZZ_DIR)/fuzz_ionc -max_total_time=$(FUZZ_SECONDS) $(ION_FUZZ_DIR)/corpus-ionc
	$(ION_FUZZ_DIR)/fuzz_pack -max_total_time=$(FUZZ_SECONDS) $(ION_FUZZ_DIR)/corpus-pack
	$(ION_FUZZ_DIR)/fuzz_value -max_total_time=$(FUZZ_SECONDS) $(ION_FUZZ_DIR)/corpus-value
