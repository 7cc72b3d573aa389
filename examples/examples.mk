# Example programs for the library (docs/api.md): built by `make`, run by the
# CLI tier so the documented output cannot drift from what they print.
EXAMPLE_SRCS := $(wildcard examples/*.c)
EXAMPLES     := $(EXAMPLE_SRCS:%.c=$(BUILD)/%)

all: $(EXAMPLES)

$(BUILD)/examples/%: examples/%.c include/arcvm.h $(LIBARCVM)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIBARCVM) $(LIB_LIBS) $(LDFLAGS)

test-cli: $(EXAMPLES)
