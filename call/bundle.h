/*
 * bundle.h - an IonPack and encoded arguments as one CALL bundle
 * (docs/exec-protocol.md, "CALL"): the pack is opened and verified on the
 * host with libion, and its class files, main class and entry point go
 * into the bundle with the arguments. Shared by arcvm_call() and `arcvm
 * call`.
 */
#ifndef CALL_BUNDLE_H
#define CALL_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "arcvm.h"

/* args: one encoded tuple (docs/ionvm-call.md). On success *out is
 * malloc'd. Fails with ARCVM_E_NOT_FOUND / ARCVM_E_IO for a pack that
 * cannot be read, ARCVM_E_FORMAT for one that does not load (the message
 * is libion's, naming the entry), ARCVM_E_INVALID when the bundle would
 * exceed PROTO_CALL_MAX, ARCVM_E_NOMEM. */
int call_bundle_from_pack(const char *pack, const void *args, size_t args_len, uint8_t **out,
			  size_t *out_len, struct arcvm_error *err);

#endif
