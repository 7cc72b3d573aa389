/* interp.c - the dispatch loop.
 *
 * Registers of the running frame are R = p->stack + f->base; the verifier
 * has proved every operand index in range, so operands are used unchecked.
 * Anything that can grow the stack or the frame array (calls, natives that
 * call back) invalidates R and f, which are reloaded afterwards.
 * A reduction is spent per call, backward jump, spawn and send; when the
 * budget runs out the instruction is left unexecuted (pc points at it) and
 * the process yields, so resuming simply re-executes it.
 * Dispatch is computed goto where the compiler has it, else a switch; both
 * come from the one opcode table.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ion/actor.h"
#include "ion/ffi.h"
#include "ion/func.h"
#include "ion/interp.h"
#include "ion/object.h"
#include "ion/opcodes.h"
#include "ion/ops.h"
#include "ion/process.h"
#include "ion/str.h"
#include "ion/unit.h"
#include "ion/vm.h"

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

#if defined(__GNUC__) && !defined(ION_NO_COMPUTED_GOTO)
#define ION_USE_GOTO 1
#endif

enum { CALL_PUSHED, CALL_DONE, CALL_ERROR, CALL_WAIT };
#define ION_NATIVE_DEPTH_MAX 64
#define MAX_ARGS 257

static const char *callee_name(ion_value v, char *buf, size_t n)
{
	if (ion_is_func(v))
		snprintf(buf, n, "%s.%s", ion_as_func(v)->cls->name, ion_as_func(v)->name);
	else if (ion_is_otype(v, ION_O_CLOSURE))
		snprintf(buf, n, "%s.%s", ((struct ion_closure *)ion_as_obj(v))->fn->cls->name,
			 ((struct ion_closure *)ion_as_obj(v))->fn->name);
	else if (ion_is_native(v))
		snprintf(buf, n, "%s", ion_as_native(v)->name);
	else
		snprintf(buf, n, "value");
	return buf;
}

/* Turns a callable object into its __call method with the object prepended;
 * copies the arguments to tmp (the stack may move before they are used). */
static int resolve_callee(struct ion_proc *p, ion_value *callee, ion_value *tmp,
			  const ion_value *args, uint32_t *nargs)
{
	if (ion_is_otype(*callee, ION_O_OBJECT)) {
		ion_value m = ion_magic(*callee, p->vm->a.__call);
		if (!m || ion_is_otype(m, ION_O_OBJECT))
			return ion_proc_raise(p, "badcall", "object is not callable");
		if (*nargs + 1 > MAX_ARGS)
			return ion_proc_raise(p, "badarity", "too many arguments");
		tmp[0] = *callee;
		memcpy(tmp + 1, args, *nargs * sizeof *args);
		(*nargs)++;
		*callee = m;
		return 0;
	}
	if (!ion_is_func(*callee) && !ion_is_native(*callee) && !ion_is_otype(*callee, ION_O_CLOSURE))
		return ion_proc_raise(p, "badcall", "cannot call %s",
				      ion_as_atom(ion_type_of(p, *callee))->name);
	memcpy(tmp, args, *nargs * sizeof *args);
	return 0;
}

static int check_arity(struct ion_proc *p, ion_value callee, int arity, uint32_t nargs)
{
	char buf[300];
	if (arity < 0 || (uint32_t)arity == nargs)
		return 0;
	return ion_proc_raise(p, "badarity", "%s expects %d arguments, got %u",
			      callee_name(callee, buf, sizeof buf), arity, nargs);
}

/* Calls callee: bytecode gets a new frame above the current one (result to
 * register `ret` of the caller when it returns); a native runs at once. */
static int do_call(struct ion_proc *p, ion_value callee, const ion_value *args, uint32_t nargs,
		   uint16_t ret, ion_value *out)
{
	ion_value tmp[MAX_ARGS];
	if (resolve_callee(p, &callee, tmp, args, &nargs))
		return CALL_ERROR;
	if (ion_is_native(callee)) {
		const struct ion_native *nat = ion_as_native(callee);
		if (check_arity(p, callee, nat->arity, nargs))
			return CALL_ERROR;
		*out = ION_NIL;
		int rc = nat->fn(p, tmp, (int)nargs, out);
		return rc == ION_NATIVE_OK ? CALL_DONE : rc == ION_NATIVE_WAIT ? CALL_WAIT : CALL_ERROR;
	}
	struct ion_closure *cl = NULL;
	struct ion_func *fn;
	if (ion_is_func(callee)) {
		fn = ion_as_func(callee);
	} else {
		cl = (struct ion_closure *)ion_as_obj(callee);
		fn = cl->fn;
	}
	if (check_arity(p, callee, fn->arity, nargs))
		return CALL_ERROR;
	if (fn->nup && !cl)
		return ion_proc_raise(p, "badcall", "%s needs a closure", fn->name), CALL_ERROR;
	uint32_t base = 0;
	if (p->nframes) {
		const struct ion_frame *cur = &p->frames[p->nframes - 1];
		base = cur->base + cur->fn->nregs;
	}
	if (ion_proc_push_frame(p, fn, cl, base, ret))
		return ion_proc_raise(p, "system_limit", "stack overflow"), CALL_ERROR;
	ion_value *R = p->stack + base;
	memcpy(R, tmp, nargs * sizeof *R);
	for (uint32_t i = nargs; i < fn->nregs; i++)
		R[i] = ION_NIL;
	return CALL_PUSHED;
}

int ion_interp_enter(struct ion_proc *p, ion_value fn, uint32_t nargs)
{
	ion_value out;
	if (!ion_is_func(fn) && !ion_is_otype(fn, ION_O_CLOSURE))
		return ION_E_INVALID;
	int r = do_call(p, fn, p->stack, nargs, 0, &out);
	return r == CALL_PUSHED ? 0 : ION_E_INVALID;
}

static void build_trace(struct ion_proc *p)
{
	size_t cap = 256 + 160 * (size_t)(p->nframes < 64 ? p->nframes : 64), n = 0;
	char *t = malloc(cap);
	if (!t)
		return;
	t[0] = 0;
	for (uint32_t i = p->nframes; i-- > 0 && n + 160 < cap;) {
		const struct ion_frame *f = &p->frames[i];
		long idx = (long)(f->pc - f->fn->code) - 1;
		if (idx < 0)
			idx = 0;
		unsigned op = ION_INSN_OP(f->fn->code[idx]);
		n += (size_t)snprintf(t + n, cap - n, "  at %s.%s (instruction %ld: %s)\n",
				      f->fn->cls->name, f->fn->name, idx, ion_op_names[op]);
		if (p->nframes - i >= 64) {
			n += (size_t)snprintf(t + n, cap - n, "  ... %u more frames\n", i);
			break;
		}
	}
	free(p->trace);
	p->trace = t;
}

/* An error left the running instruction: unwind to the nearest nested-call
 * boundary, or end the process with reason {error, value}. */
static int raise_error(struct ion_proc *p, int nested)
{
	if (p->exiting && !nested) {
		p->nframes = 0;
		p->result = ION_NIL;
		return ION_RUN_EXIT;
	}
	if (!p->trace && !p->exiting)
		build_trace(p);
	if (nested) {
		while (p->nframes) {
			uint16_t fl = p->frames[--p->nframes].flags;
			if (fl & ION_FRAME_BOUNDARY)
				break;
		}
		return ION_RUN_ERROR;
	}
	struct ion_tuple *t = ion_tuple_new(&p->heap, 2);
	if (t) {
		t->items[0] = ion_atom_val(p->vm->a.error);
		t->items[1] = p->reason;
		p->reason = ion_box(ION_TAG_OBJ, t);
	}
	p->nframes = 0;
	p->result = ION_NIL;
	return ION_RUN_EXIT;
}

static bool pat_match(const struct ion_pat *pt, ion_value v)
{
	switch (pt->tag) {
	case ION_PAT_WILD:
	case ION_PAT_BIND: return true;
	case ION_PAT_LIT: return ion_values_equal(pt->lit, v);
	default: {
		enum ion_otype t = pt->tag == ION_PAT_TUPLE ? ION_O_TUPLE : ION_O_ARRAY;
		if (!ion_is_otype(v, t) || ion_as_obj(v)->len != pt->n)
			return false;
		const ion_value *items = t == ION_O_TUPLE ? ((struct ion_tuple *)ion_as_obj(v))->items :
							     ((struct ion_array *)ion_as_obj(v))->items;
		for (uint16_t i = 0; i < pt->n; i++)
			if (!pat_match(&pt->items[i], items[i]))
				return false;
		return true;
	}
	}
}

static void pat_bind(const struct ion_pat *pt, ion_value v, ion_value *R)
{
	if (pt->tag == ION_PAT_BIND) {
		R[pt->reg] = v;
	} else if (pt->tag == ION_PAT_TUPLE || pt->tag == ION_PAT_ARRAY) {
		const ion_value *items = pt->tag == ION_PAT_TUPLE ?
			((struct ion_tuple *)ion_as_obj(v))->items : ((struct ion_array *)ion_as_obj(v))->items;
		for (uint16_t i = 0; i < pt->n; i++)
			pat_bind(&pt->items[i], items[i], R);
	}
}

static void trace_insn(struct ion_proc *p, const struct ion_frame *f, const uint64_t *pc)
{
	uint64_t w = *pc;
	unsigned op = ION_INSN_OP(w);
	ion_vm_printf(p->vm, ION_STDERR, "[trace] <pid %u> %s.%s %4ld: %-15s %u %u %u %u\n",
		      ion_pid_slot(p->pid), f->fn->cls->name, f->fn->name, (long)(pc - f->fn->code),
		      ion_op_names[op], ION_INSN_A(w), ION_INSN_B(w), ION_INSN_C(w), ION_INSN_D(w));
}

static int run_loop(struct ion_proc *p, int32_t budget, int nested);

int ion_interp_run(struct ion_proc *p, uint32_t budget)
{
	return run_loop(p, (int32_t)(budget ? budget : 2000), 0);
}

int ion_interp_call(struct ion_proc *p, ion_value fn, const ion_value *args, uint32_t nargs,
		    ion_value *out)
{
	int r = do_call(p, fn, args, nargs, 0, out);
	if (r == CALL_DONE)
		return 0;
	if (r == CALL_ERROR)
		return ION_NATIVE_ERROR;
	if (r == CALL_WAIT)
		return ion_proc_raise(p, "badcall", "a callback cannot wait");
	/* Each nesting level costs C stack: bound it. */
	if (p->in_native >= ION_NATIVE_DEPTH_MAX) {
		p->nframes--;
		return ion_proc_raise(p, "system_limit", "callbacks nested deeper than %d",
				      ION_NATIVE_DEPTH_MAX);
	}
	p->frames[p->nframes - 1].flags |= ION_FRAME_BOUNDARY;
	p->in_native++;
	int st = run_loop(p, INT32_MAX, 1);
	p->in_native--;
	if (st == ION_RUN_RETURN) {
		*out = p->result;
		p->result = ION_NIL;
		return 0;
	}
	return ION_NATIVE_ERROR;
}

/* ---- the dispatch loop ---- */

#define OPA ION_INSN_A(w)
#define OPB ION_INSN_B(w)
#define OPC ION_INSN_C(w)
#define OPD ION_INSN_D(w)
#define RELOAD() do { f = &p->frames[p->nframes - 1]; R = p->stack + f->base; \
		      pc = f->pc; K = f->fn->K; } while (0)
#define RAISE() do { f->pc = pc; goto raise; } while (0)
#define SPEND(n) do { if (UNLIKELY((budget -= (n)) < 0)) { f->pc = pc - 1; goto yield; } } while (0)

#ifdef ION_USE_GOTO
#define VMCASE(n) L_##n:
#define NEXT() do { w = *pc++; goto *disp[ION_INSN_OP(w)]; } while (0)
#else
#define VMCASE(n) case ION_OP_##n:
#define NEXT() goto dispatch
#endif

/* Numbers are read and written through a double view of the registers so
 * they stay in FP registers (no integer-to-FP moves on the dependency
 * chain); interp.c is built with -fno-strict-aliasing for this. */
#define RD(i) (((double *)R)[i])
/* A separate FP load: otherwise GCC reuses the integer load made for the
 * tag check and adds a GPR-to-XMM move to every arithmetic result chain. */
static inline double ld_num(const ion_value *p)
{
	double d;
#if defined(__x86_64__) && defined(__GNUC__)
	__asm__("movsd %1, %0" : "=x"(d) : "m"(*p));
#else
	memcpy(&d, p, sizeof d);
#endif
	return d;
}
#define ARITH(name, expr) \
	VMCASE(name) { \
		unsigned rb = OPB, rc = OPC; \
		if (LIKELY(ion_is_num(R[rb]) && ion_is_num(R[rc]))) { \
			double a = ld_num(&R[rb]), b = ld_num(&R[rc]); \
			RD(OPA) = (expr); \
			NEXT(); \
		} \
		goto arith_slow; \
	}

#define COMPARE(name, test) \
	VMCASE(name) { \
		ion_value x = R[OPB], y = R[OPC]; \
		int c; \
		if (LIKELY(ion_is_num(x) && ion_is_num(y))) { \
			double a = ion_num(x), b = ion_num(y); \
			c = a < b ? -1 : a > b ? 1 : a == b ? 0 : 2; \
		} else if (ion_compare(p, x, y, &c)) { \
			RAISE(); \
		} \
		R[OPA] = ion_bool(test); \
		NEXT(); \
	}

#define JUMP_COMPARE(name, test) \
	VMCASE(name) { \
		ion_value x = R[OPA], y = R[OPB]; \
		int c; \
		if (LIKELY(ion_is_num(x) && ion_is_num(y))) { \
			double a = ion_num(x), b = ion_num(y); \
			c = a < b ? -1 : a > b ? 1 : a == b ? 0 : 2; \
		} else if (ion_compare(p, x, y, &c)) { \
			RAISE(); \
		} \
		if (test) { \
			const uint64_t *t = f->fn->code + OPC; \
			if (t < pc) \
				SPEND(1); \
			pc = t; \
		} \
		NEXT(); \
	}

static int run_loop(struct ion_proc *p, int32_t budget, int nested)
{
	struct ion_vm *vm = p->vm;
	const int32_t budget0 = budget;
	struct ion_frame *f;
	ion_value *R;
	const ion_value *K;
	const uint64_t *pc;
	uint64_t w;
	ion_value v, out;
	int st;

#ifdef ION_USE_GOTO
	static const void *const labels[ION_OP__COUNT] = {
#define ION_OP_LABEL(name, a, b, c, d, doc) &&L_##name,
		ION_OPCODES(ION_OP_LABEL)
#undef ION_OP_LABEL
	};
	static const void *const tracing[ION_OP__COUNT] = {
#define ION_OP_TRACE(name, a, b, c, d, doc) &&L__trace,
		ION_OPCODES(ION_OP_TRACE)
#undef ION_OP_TRACE
	};
	const void *const *disp = (vm->cfg.debug & ION_DEBUG_TRACE) ? tracing : labels;
#endif

	RELOAD();
	if (UNLIKELY(p->resume_return)) {
		p->resume_return = 0;
		v = ION_NIL;
		goto do_return;
	}
#ifdef ION_USE_GOTO
	NEXT();
L__trace:
	trace_insn(p, f, pc - 1);
	goto *labels[ION_INSN_OP(w)];
#else
dispatch:
	w = *pc++;
	if (UNLIKELY(vm->cfg.debug & ION_DEBUG_TRACE))
		trace_insn(p, f, pc - 1);
	switch (ION_INSN_OP(w)) {
#endif

	VMCASE(nop) NEXT();
	VMCASE(move) R[OPA] = R[OPB]; NEXT();
	VMCASE(load_const) {
		v = K[OPB];
		if (UNLIKELY(ion_is_obj(v))) {
			if (ion_gc_copy(&p->heap, v, &out)) {
				ion_proc_raise(p, "nomem", "out of memory");
				RAISE();
			}
			v = out;
		}
		R[OPA] = v;
		NEXT();
	}
	VMCASE(load_nil) R[OPA] = ION_NIL; NEXT();
	VMCASE(load_bool) R[OPA] = ion_bool(OPB); NEXT();
	VMCASE(load_int) R[OPA] = ion_from_num((double)ION_INSN_SB(w)); NEXT();
	ARITH(add, a + b)
	ARITH(sub, a - b)
	ARITH(mul, a * b)
	ARITH(div, a / b)
	ARITH(mod, a - floor(a / b) * b)
	ARITH(pow, pow(a, b))
	VMCASE(add_imm) {
		unsigned rb = OPB;
		if (LIKELY(ion_is_num(R[rb]))) {
			RD(OPA) = ld_num(&R[rb]) + (double)ION_INSN_SC(w);
			NEXT();
		}
		goto arith_slow;
	}
	VMCASE(neg) {
		ion_value x = R[OPB];
		if (LIKELY(ion_is_num(x))) {
			R[OPA] = ion_from_num(-ion_num(x));
			NEXT();
		}
		goto arith_slow;
	}
	VMCASE(logical_not) R[OPA] = ion_bool(!ion_truthy(R[OPB])); NEXT();
	VMCASE(logical_and) R[OPA] = ion_truthy(R[OPB]) ? R[OPC] : R[OPB]; NEXT();
	VMCASE(logical_or) R[OPA] = ion_truthy(R[OPB]) ? R[OPB] : R[OPC]; NEXT();
	VMCASE(eq) {
		ion_value x = R[OPB], y = R[OPC];
		if (LIKELY(ion_is_num(x) && ion_is_num(y))) {
			R[OPA] = ion_bool(ion_num(x) == ion_num(y));
			NEXT();
		}
		ion_value m = ion_magic(x, vm->a.__eq);
		if (m) {
			ion_value args[2] = { x, y };
			f->pc = pc;
			st = do_call(p, m, args, 2, (uint16_t)OPA, &out);
			goto after_call;
		}
		R[OPA] = ion_bool(ion_values_equal(x, y));
		NEXT();
	}
	VMCASE(ne) R[OPA] = ion_bool(!ion_values_equal(R[OPB], R[OPC])); NEXT();
	COMPARE(lt, c == -1)
	COMPARE(le, c == -1 || c == 0)
	COMPARE(gt, c == 1)
	COMPARE(ge, c == 1 || c == 0)
	VMCASE(jump) {
		const uint64_t *t = f->fn->code + OPB;
		if (t < pc)
			SPEND(1);
		pc = t;
		NEXT();
	}
	VMCASE(jump_if) {
		if (ion_truthy(R[OPA])) {
			const uint64_t *t = f->fn->code + OPB;
			if (t < pc)
				SPEND(1);
			pc = t;
		}
		NEXT();
	}
	VMCASE(jump_if_not) {
		if (!ion_truthy(R[OPA])) {
			const uint64_t *t = f->fn->code + OPB;
			if (t < pc)
				SPEND(1);
			pc = t;
		}
		NEXT();
	}
	JUMP_COMPARE(jump_lt, c == -1)
	JUMP_COMPARE(jump_le, c == -1 || c == 0)
	VMCASE(jump_eq) {
		if (ion_values_equal(R[OPA], R[OPB])) {
			const uint64_t *t = f->fn->code + OPC;
			if (t < pc)
				SPEND(1);
			pc = t;
		}
		NEXT();
	}
	VMCASE(jump_ne) {
		if (!ion_values_equal(R[OPA], R[OPB])) {
			const uint64_t *t = f->fn->code + OPC;
			if (t < pc)
				SPEND(1);
			pc = t;
		}
		NEXT();
	}
	VMCASE(call) {
		ion_value cv = R[OPB];
		SPEND(1);
		struct ion_func *fn = NULL;
		struct ion_closure *cl = NULL;
		if (LIKELY(ion_is_func(cv))) {
			fn = ion_as_func(cv);
		} else if (ion_is_otype(cv, ION_O_CLOSURE)) {
			cl = (struct ion_closure *)ion_as_obj(cv);
			fn = cl->fn;
		}
		if (LIKELY(fn != NULL)) {
			uint32_t nargs = OPD, c = OPC, base = f->base + f->fn->nregs;
			if (LIKELY(fn->arity == nargs && base + fn->nregs <= p->stack_cap &&
				   p->nframes < p->frames_cap)) {
				ion_value *NR = p->stack + base;
				for (uint32_t i = 0; i < nargs; i++)
					NR[i] = R[c + i];
				for (uint32_t i = nargs; i < fn->nregs; i++)
					NR[i] = ION_NIL;
				f->pc = pc;
				f = &p->frames[p->nframes++];
				f->fn = fn;
				f->cl = cl;
				f->base = base;
				f->ret = (uint16_t)OPA;
				f->flags = 0;
				R = NR;
				pc = fn->code;
				K = fn->K;
				NEXT();
			}
		}
		f->pc = pc;
		st = do_call(p, cv, &R[OPC], OPD, (uint16_t)OPA, &out);
		goto after_call;
	}
	VMCASE(tail_call) {
		ion_value cv = R[OPB], tmp[MAX_ARGS];
		uint32_t nargs = OPD;
		SPEND(1);
		f->pc = pc;
		if (resolve_callee(p, &cv, tmp, &R[OPC], &nargs))
			goto raise;
		if (ion_is_native(cv)) {
			st = do_call(p, cv, tmp, nargs, 0, &out);
			if (st == CALL_ERROR)
				goto raise;
			if (st == CALL_WAIT)
				goto native_wait_tail;
			v = out;
			goto do_return;
		}
		struct ion_closure *cl = ion_is_func(cv) ? NULL : (struct ion_closure *)ion_as_obj(cv);
		struct ion_func *fn = cl ? cl->fn : ion_as_func(cv);
		if (check_arity(p, cv, fn->arity, nargs))
			goto raise;
		if (ion_proc_reserve(p, f->base + fn->nregs)) {
			ion_proc_raise(p, "system_limit", "stack overflow");
			goto raise;
		}
		R = p->stack + f->base;
		memcpy(R, tmp, nargs * sizeof *R);
		for (uint32_t i = nargs; i < fn->nregs; i++)
			R[i] = ION_NIL;
		f->fn = fn;
		f->cl = cl;
		pc = fn->code;
		K = fn->K;
		NEXT();
	}
	VMCASE(return_reg) v = R[OPA]; goto do_return;
	VMCASE(return_nil) v = ION_NIL; goto do_return;
	VMCASE(closure) {
		struct ion_func *fn = ion_as_func(K[OPB]);
		struct ion_closure *cl = ion_closure_new(&p->heap, fn, fn->nup);
		if (!cl) {
			ion_proc_raise(p, "nomem", "out of memory");
			RAISE();
		}
		for (uint32_t i = 0; i < fn->nup; i++)
			cl->up[i] = fn->upkind[i] ? f->cl->up[fn->upidx[i]] : R[fn->upidx[i]];
		R[OPA] = ion_box(ION_TAG_OBJ, cl);
		NEXT();
	}
	VMCASE(get_upval) R[OPA] = f->cl->up[OPB]; NEXT();
	VMCASE(set_upval) f->cl->up[OPB] = R[OPA]; NEXT();
	VMCASE(new_object) {
		struct ion_object *o = ion_object_new(&p->heap);
		if (!o) {
			ion_proc_raise(p, "nomem", "out of memory");
			RAISE();
		}
		R[OPA] = ion_box(ION_TAG_OBJ, o);
		NEXT();
	}
	VMCASE(new_array) {
		uint32_t n = OPC;
		struct ion_array *a = ion_array_new(&p->heap, n);
		if (!a) {
			ion_proc_raise(p, "nomem", "out of memory");
			RAISE();
		}
		if (n)
			memcpy(a->items, &R[OPB], n * sizeof(ion_value));
		a->h.len = n;
		R[OPA] = ion_box(ION_TAG_OBJ, a);
		NEXT();
	}
	VMCASE(new_tuple) {
		uint32_t n = OPC;
		struct ion_tuple *t = ion_tuple_new(&p->heap, n);
		if (!t) {
			ion_proc_raise(p, "nomem", "out of memory");
			RAISE();
		}
		memcpy(t->items, &R[OPB], n * sizeof(ion_value));
		R[OPA] = ion_box(ION_TAG_OBJ, t);
		NEXT();
	}
	VMCASE(get_prop) {
		ion_value o = R[OPB];
		if (LIKELY(ion_is_otype(o, ION_O_OBJECT))) {
			struct ion_prop *pr = ion_obj_lookup((struct ion_object *)ion_as_obj(o),
							     f->fn->cls->KA[OPC]);
			R[OPA] = pr ? pr->val : ION_NIL;
			NEXT();
		}
		ion_proc_raise(p, "badprop", "cannot read property '%s' of %s",
			       f->fn->cls->KA[OPC]->name, ion_as_atom(ion_type_of(p, o))->name);
		RAISE();
	}
	VMCASE(set_prop) {
		ion_value o = R[OPA];
		struct ion_atom *key = f->fn->cls->KA[OPB];
		if (!ion_is_otype(o, ION_O_OBJECT)) {
			ion_proc_raise(p, "badprop", "cannot set property '%s' of %s", key->name,
				       ion_as_atom(ion_type_of(p, o))->name);
			RAISE();
		}
		int rc = ion_obj_set(&p->heap, (struct ion_object *)ion_as_obj(o), key, R[OPC]);
		if (rc) {
			ion_prop_error(p, rc, key);
			RAISE();
		}
		NEXT();
	}
	VMCASE(define_prop) {
		ion_value o = R[OPA];
		struct ion_atom *key = f->fn->cls->KA[OPB];
		int rc = ion_is_otype(o, ION_O_OBJECT) ?
			ion_obj_define(&p->heap, (struct ion_object *)ion_as_obj(o), key, R[OPC], OPD) :
			ION_OBJ_FROZEN;
		if (rc) {
			ion_prop_error(p, rc, key);
			RAISE();
		}
		NEXT();
	}
	VMCASE(delete_prop) {
		ion_value o = R[OPA];
		struct ion_atom *key = f->fn->cls->KA[OPB];
		int rc = ion_is_otype(o, ION_O_OBJECT) ?
			ion_obj_delete((struct ion_object *)ion_as_obj(o), key) : ION_OBJ_NOTCONFIG;
		if (rc) {
			ion_prop_error(p, rc, key);
			RAISE();
		}
		NEXT();
	}
	VMCASE(get_index) {
		ion_value c = R[OPB], k = R[OPC];
		if (LIKELY(ion_is_otype(c, ION_O_ARRAY) && ion_is_num(k))) {
			struct ion_array *a = (struct ion_array *)ion_as_obj(c);
			double d = ion_num(k);
			if (LIKELY(d >= 0 && d < a->h.len && d == (double)(uint32_t)d)) {
				R[OPA] = a->items[(uint32_t)d];
				NEXT();
			}
		}
		if (ion_get_index(p, c, k, &out))
			RAISE();
		R[OPA] = out;
		NEXT();
	}
	VMCASE(set_index) {
		if (ion_set_index(p, R[OPA], R[OPB], R[OPC]))
			RAISE();
		NEXT();
	}
	VMCASE(get_proto) {
		ion_value o = R[OPB];
		R[OPA] = ion_is_otype(o, ION_O_OBJECT) ? ((struct ion_object *)ion_as_obj(o))->proto : ION_NIL;
		NEXT();
	}
	VMCASE(set_proto) {
		ion_value o = R[OPA], pr = R[OPB];
		if (!ion_is_otype(o, ION_O_OBJECT) || (pr != ION_NIL && !ion_is_otype(pr, ION_O_OBJECT))) {
			ion_proc_raise(p, "badprop", "set_proto needs an object and an object or nil");
			RAISE();
		}
		int rc = ion_obj_set_proto((struct ion_object *)ion_as_obj(o), pr);
		if (rc) {
			ion_prop_error(p, rc, vm->a.object);
			RAISE();
		}
		NEXT();
	}
	VMCASE(len) {
		if (ion_len(p, R[OPB], &out))
			RAISE();
		R[OPA] = out;
		NEXT();
	}
	VMCASE(type_of) R[OPA] = ion_type_of(p, R[OPB]); NEXT();
	VMCASE(match) {
		const struct ion_mtable *mt = f->fn->mt[OPB];
		v = R[OPA];
		for (uint32_t i = 0; i < mt->narms; i++) {
			if (pat_match(&mt->pats[i], v)) {
				const uint64_t *t = f->fn->code + mt->targets[i];
				if (t < pc)
					SPEND(1);
				pat_bind(&mt->pats[i], v, R);
				pc = t;
				break;
			}
		}
		NEXT();
	}
	VMCASE(spawn) {
		SPEND(1);
		f->pc = pc;
		if (ion_actor_spawn(p, R[OPB], R[OPC], &out))
			goto raise;
		R[OPA] = out;
		NEXT();
	}
	VMCASE(send) {
		ion_value to = R[OPA];
		SPEND(1);
		if (!ion_is_pid(to)) {
			ion_proc_raise(p, "badarg", "send needs a pid, not %s", ion_as_atom(ion_type_of(p, to))->name);
			RAISE();
		}
		if (ion_sched_send(vm, to, R[OPB])) {
			ion_proc_raise(p, "nomem", "out of memory sending a message");
			RAISE();
		}
		NEXT();
	}
	VMCASE(receive) {
		if (ion_proc_mbox_pop(p, &R[OPA]))
			NEXT();
		if (nested) {
			ion_proc_raise(p, "badcall", "receive inside a native callback");
			RAISE();
		}
		f->pc = pc - 1;
		st = ION_RUN_WAIT;
		goto leave;
	}
	VMCASE(receive_timeout) {
		if (ion_proc_mbox_pop(p, &R[OPA])) {
			ion_sched_timer_cancel(vm, p);
			p->timed_out = 0;
			NEXT();
		}
		if (p->timed_out) {
			p->timed_out = 0;
			pc = f->fn->code + OPC;
			NEXT();
		}
		if (!p->timer_pos) {
			uint64_t dl = 0;
			int rc = ion_actor_deadline(p, R[OPB], &dl);
			if (rc < 0)
				RAISE();
			if (rc == 0) {
				if (dl <= ion_now_ns()) {
					pc = f->fn->code + OPC;
					NEXT();
				}
				ion_sched_timer_set(vm, p, dl);
			}
		}
		if (nested) {
			ion_proc_raise(p, "badcall", "receive inside a native callback");
			RAISE();
		}
		f->pc = pc - 1;
		st = ION_RUN_WAIT;
		goto leave;
	}
	VMCASE(self) R[OPA] = p->pid; NEXT();
	VMCASE(link) {
		if (ion_actor_link(p, R[OPA]))
			RAISE();
		NEXT();
	}
	VMCASE(unlink) {
		ion_value pid = R[OPA];
		struct ion_proc *q = ion_is_pid(pid) ? ion_sched_lookup(vm, pid) : NULL;
		ion_proc_remove_link(p, pid);
		if (q)
			ion_proc_remove_link(q, p->pid);
		NEXT();
	}
	VMCASE(monitor) {
		if (ion_actor_monitor(p, R[OPB], &out))
			RAISE();
		R[OPA] = out;
		NEXT();
	}
	VMCASE(trap_exit) p->trap_exit = ion_truthy(R[OPA]); NEXT();
	VMCASE(exit) {
		if (nested) {
			ion_proc_raise(p, "badcall", "exit inside a native callback");
			RAISE();
		}
		p->reason = R[OPA];
		p->result = ION_NIL;
		p->nframes = 0;
		st = ION_RUN_EXIT;
		goto leave;
	}
	VMCASE(error) p->reason = R[OPA]; RAISE();
	VMCASE(loop_lt) {
		ion_value x = R[OPA], y = R[OPB];
		if (UNLIKELY(!ion_is_num(x) || !ion_is_num(y))) {
			ion_proc_raise(p, "badarith", "loop_lt needs numbers");
			RAISE();
		}
		double n = ld_num(&R[OPA]) + 1.0;
		RD(OPA) = n;
		if (n < RD(OPB)) {
			const uint64_t *t = f->fn->code + OPC;
			/* the increment is done: a yield resumes at the target */
			if (t < pc && UNLIKELY(--budget < 0)) {
				f->pc = t;
				goto yield;
			}
			pc = t;
		}
		NEXT();
	}

#ifndef ION_USE_GOTO
	default:
		ion_proc_raise(p, "badarg", "unknown opcode");
		RAISE();
	}
#endif

arith_slow: {
	unsigned op = ION_INSN_OP(w);
	ion_value x = R[OPB], y = op == ION_OP_neg ? ION_NIL :
				  op == ION_OP_add_imm ? ion_from_num((double)ION_INSN_SC(w)) : R[OPC];
	ion_value method = 0;
	f->pc = pc;
	int rc = ion_arith(p, op == ION_OP_add_imm ? ION_OP_add : op, x, y, &out, &method);
	if (rc < 0)
		goto raise;
	if (rc == 0) {
		R = p->stack + f->base;
		R[OPA] = out;
		NEXT();
	}
	ion_value args[2] = { x, y };
	st = do_call(p, method, args, 2, (uint16_t)OPA, &out);
	goto after_call;
}

after_call:
	/* f->pc was saved before the call; frames and stack may have moved. */
	switch (st) {
	case CALL_PUSHED:
		RELOAD();
		NEXT();
	case CALL_DONE:
		RELOAD();
		R[OPA] = out;
		NEXT();
	case CALL_WAIT:
		RELOAD();
		R[OPA] = ION_NIL;
		if (nested) {
			ion_proc_raise(p, "badcall", "a callback cannot wait");
			goto raise;
		}
		st = ION_RUN_WAIT;
		goto leave;
	default:
		goto raise;
	}

native_wait_tail:
	/* A tail-called native put the process to sleep: when it wakes, this
	 * frame returns nil (see the check after RELOAD at the top). */
	if (nested) {
		ion_proc_raise(p, "badcall", "a callback cannot wait");
		goto raise;
	}
	p->resume_return = 1;
	st = ION_RUN_WAIT;
	goto leave;

do_return: {
	uint16_t flags = f->flags, ret = f->ret;
	p->nframes--;
	if (UNLIKELY(flags & ION_FRAME_BOUNDARY)) {
		p->result = v;
		st = ION_RUN_RETURN;
		goto leave;
	}
	if (UNLIKELY(!p->nframes)) {
		p->result = v;
		p->reason = ion_atom_val(vm->a.normal);
		st = ION_RUN_EXIT;
		goto leave;
	}
	f = &p->frames[p->nframes - 1];
	R = p->stack + f->base;
	R[ret] = v;
	pc = f->pc;
	K = f->fn->K;
	NEXT();
}

yield:
	st = ION_RUN_YIELD;
	goto leave;

raise:
	st = raise_error(p, nested);

leave:
	p->reductions += (uint64_t)(budget0 - (budget > 0 ? budget : 0));
	return st;
}
