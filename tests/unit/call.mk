# test_call_session drives the real agent (which links libion) and builds
# its classes with the IonVM test helpers, so it links libion too; this
# explicit rule replaces the generic unit-test one for it.
$(BUILD)/tests/unit/test_call_session: tests/unit/test_call_session.c $(LIBARCVM) \
		$(BUILD)/ion/libion.a $(BUILD)/ion/obj/ion/tests/helpers.o $(BUILD)/guest/arcvm-init
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $< $(BUILD)/ion/obj/ion/tests/helpers.o $(LIBARCVM) \
		$(BUILD)/ion/libion.a $(LIB_LIBS) -lzip -lm -lcmocka $(LDFLAGS)
