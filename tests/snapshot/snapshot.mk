# snapctl: the snapshot test and benchmark driver (tests/snapshot/snapctl.c).
SNAPCTL := $(BUILD)/tests/snapshot/snapctl

$(SNAPCTL): tests/snapshot/snapctl.c $(LIBARCVM)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIBARCVM) $(LIB_LIBS) $(LDFLAGS)

all: $(SNAPCTL)
