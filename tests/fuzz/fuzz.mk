# libFuzzer targets for every parser of guest- or user-controlled bytes.
#   make fuzz                  builds them and runs each for FUZZ_SECONDS
# The library sources are compiled into each target with the sanitizers on.
FUZZ_SECONDS ?= 20
FUZZ_CC      := clang
FUZZ_FLAGS   := -std=gnu11 -D_GNU_SOURCE -g -O1 -I. -Iinclude -pthread \
                -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_OBJS    := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(LIB_SRCS) cli/drive_opt.c cli/net_opt.c cli/shm_opt.c \
                  api/http.c api/fc_json.c api/vmctl.c)
FUZZ_LIB     := $(BUILD)/fuzz/libarcvm-fuzz.a

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS:fuzzer,=fuzzer-no-link,) -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_LIB) $(LIB_LIBS) $(CLI_LIBS)

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_BINS); do \
		mkdir -p $(BUILD)/fuzz/corpus/$$(basename $$f); \
		echo "fuzz: $$(basename $$f) for $(FUZZ_SECONDS) s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 \
			$(BUILD)/fuzz/corpus/$$(basename $$f) 2>&1 | tail -1; \
	done
