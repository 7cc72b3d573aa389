# test_call_session drives the real agent and builds its classes with the
# IonVM test helpers (ion/tests/helpers.c); this explicit rule replaces the
# generic unit-test one to link them.
$(BUILD)/tests/unit/test_call_session: tests/unit/test_call_session.c $(LIBARCVM) \
		$(BUILD)/ion/obj/ion/tests/helpers.o $(BUILD)/guest/arcvm-init
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $< $(BUILD)/ion/obj/ion/tests/helpers.o $(LIBARCVM) \
		$(LIB_LIBS) -lcmocka $(LDFLAGS)
