/* bundle.c - an IonPack and encoded arguments as a CALL bundle (bundle.h). */
#include "call/bundle.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest/agent/proto.h"
#include "ion/include/ion.h"
#include "util/err.h"

/* The natives the guest agent adds for a CALL (guest/agent/call_shm.c):
 * registered here by name only, so a pack that uses them loads and links on
 * the host before its classes are sent; the guest links them again against
 * the real ones. Keep the names and arities in step with call_shm.c. */
static int guest_only(struct ion_proc *p, ion_value *args, int nargs, ion_value *out)
{
	return ion_proc_raise(p, "badcall", "this native runs only in the guest (arcvm call)");
}

static const struct ion_native guest_natives[] = {
	{ "shm.shared", 0, "the VM's shared memory as a buffer (guest only)", guest_only },
	{ "shm.ring", 0, "ring the shared memory's doorbell (guest only)", guest_only },
	{ "shm.wait", 1, "wait for the doorbell (guest only)", guest_only },
	{ NULL, 0, NULL, NULL }
};

/* The pack's class files, as ion_vm_load_pack_file reads and verifies them. */
struct class_list {
	uint8_t **data;
	uint32_t *len;
	uint32_t n, cap;
};

static int collect_class(void *opaque, const char *name, const void *data, size_t len)
{
	struct class_list *l = opaque;
	if (l->n == PROTO_CALL_CLASSES || len > UINT32_MAX)
		return -1;
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 16;
		uint8_t **d = realloc(l->data, cap * sizeof(*d));
		if (d)
			l->data = d;
		uint32_t *n = realloc(l->len, cap * sizeof(*n));
		if (n)
			l->len = n;
		if (!d || !n)
			return -1;
		l->cap = cap;
	}
	if (!(l->data[l->n] = malloc(len ? len : 1)))
		return -1;
	memcpy(l->data[l->n], data, len);
	l->len[l->n++] = (uint32_t)len;
	return 0;
}

static int encode(const char *pack, struct ion_vm *vm, const struct class_list *cl,
		  const void *args, size_t args_len, uint8_t **out, size_t *out_len,
		  struct arcvm_error *err)
{
	const char *cls = ion_vm_manifest(vm, "main-class");
	const char *fn = ion_vm_manifest(vm, "entry-point");
	if (!cls || !fn || strlen(cls) > PROTO_CALL_NAME || strlen(fn) > PROTO_CALL_NAME)
		return err_set(err, ARCVM_E_FORMAT, "%s: the manifest's main-class or entry-point is"
			       " missing or longer than %u bytes", pack, PROTO_CALL_NAME);
	if (args_len > PROTO_CALL_MAX)
		return err_set(err, ARCVM_E_INVALID, "the arguments exceed %u MiB",
			       PROTO_CALL_MAX >> 20);
	struct proto_call pc = { .nclasses = cl->n, .class_data = (const uint8_t **)cl->data,
				 .class_len = cl->len, .args = args, .args_len = (uint32_t)args_len };
	strcpy(pc.cls, cls);
	strcpy(pc.fn, fn);
	int rc = proto_encode_call(&pc, out, out_len);
	if (rc == PROTO_E_BIG)
		return err_set(err, ARCVM_E_INVALID, "%s: its classes and the arguments exceed %u MiB",
			       pack, PROTO_CALL_MAX >> 20);
	if (rc == -ENOMEM)
		return err_set(err, ARCVM_E_NOMEM, "out of memory for the call");
	return rc ? err_set(err, ARCVM_E_FORMAT, "%s: cannot be sent", pack) : 0;
}

int call_bundle_from_pack(const char *pack, const void *args, size_t args_len, uint8_t **out,
			  size_t *out_len, struct arcvm_error *err)
{
	if (access(pack, R_OK))
		return err_errno(err, err_from_errno(errno), errno, "cannot read %s", pack);
	struct ion_config cfg = { 0 };
	struct ion_vm *vm = ion_vm_new(&cfg);
	struct class_list cl = { 0 };
	if (!vm)
		return err_set(err, ARCVM_E_NOMEM, "out of memory");
	ion_vm_on_class(vm, collect_class, &cl);
	int rc = ion_vm_register_natives(vm, guest_natives);
	if (!rc)
		rc = ion_vm_load_pack_file(vm, pack);
	if (rc)
		rc = err_set(err, rc == ION_E_NOMEM ? ARCVM_E_NOMEM : rc == ION_E_IO ? ARCVM_E_IO :
			     ARCVM_E_FORMAT, "cannot load %s: %s", pack, ion_vm_error(vm));
	else
		rc = encode(pack, vm, &cl, args, args_len, out, out_len, err);
	for (uint32_t i = 0; i < cl.n; i++)
		free(cl.data[i]);
	free(cl.data);
	free(cl.len);
	ion_vm_free(vm);
	return rc;
}
