/* verify.c - the bytecode verifier: after it accepts a unit, every register,
 * constant, upvalue and jump operand the interpreter reads is in range, so
 * the interpreter itself does no index checks. What it cannot know before
 * linking (other classes, natives, call arities) is checked at link or run
 * time.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ion/include/ion.h"
#include "ion/unit.h"

struct vctx {
	const struct ion_unit *u;
	const struct ion_kfunc *f;
	uint32_t pc;
	char *err;
	size_t errlen;
};

static int vfail(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int vfail(struct vctx *v, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (v->f)
		snprintf(v->err, v->errlen, "class %s: function %s: instruction %u (%s): %s",
			 v->u->name.s, v->f->name.s, v->pc,
			 ion_op_names[ION_INSN_OP(v->f->code[v->pc]) < ION_OP__COUNT ?
				      ION_INSN_OP(v->f->code[v->pc]) : 0], msg);
	else
		snprintf(v->err, v->errlen, "class %s: %s", v->u->name.s, msg);
	return ION_E_FORMAT;
}

static const struct ion_kfunc *find_func(const struct ion_unit *u, const struct ion_bytes *name)
{
	for (uint32_t i = 0; i < u->nf; i++)
		if (u->f[i].name.len == name->len && memcmp(u->f[i].name.s, name->s, name->len) == 0)
			return &u->f[i];
	return NULL;
}

/* A funcref is usable as a plain value only if it needs no upvalues. */
static int check_plain_const(struct vctx *v, const struct ion_kconst *k)
{
	if (k->kind == ION_K_FUNCREF && k->s.len == 0) {
		const struct ion_kfunc *t = find_func(v->u, &k->s2);
		if (!t)
			return vfail(v, "funcref to unknown function '%s'", k->s2.s);
		if (t->nup)
			return vfail(v, "funcref to '%s', which needs a closure", k->s2.s);
	}
	if (k->kind == ION_K_TUPLE || k->kind == ION_K_ARRAY || k->kind == ION_K_OBJECT)
		for (uint32_t i = 0; i < k->n; i++)
			if (check_plain_const(v, &k->items[i]))
				return ION_E_FORMAT;
	return 0;
}

static int check_pat(struct vctx *v, const struct ion_kpat *p)
{
	if (p->tag == ION_PAT_BIND && p->reg >= v->f->nregs)
		return vfail(v, "pattern binds register %u (function has %u)", p->reg, v->f->nregs);
	if (p->tag == ION_PAT_TUPLE || p->tag == ION_PAT_ARRAY)
		for (uint16_t i = 0; i < p->n; i++)
			if (check_pat(v, &p->items[i]))
				return ION_E_FORMAT;
	return 0;
}

static int check_const_use(struct vctx *v, unsigned op, unsigned k)
{
	const struct ion_kconst *c = &v->u->k[k];
	switch (op) {
	case ION_OP_load_const:
		if (c->kind == ION_K_MATCH)
			return vfail(v, "constant %u is a match table", k);
		return check_plain_const(v, c);
	case ION_OP_get_prop: case ION_OP_set_prop: case ION_OP_define_prop: case ION_OP_delete_prop:
		if (c->kind != ION_K_STRING && c->kind != ION_K_ATOM)
			return vfail(v, "constant %u is not a property name", k);
		if (c->s.len == 0 || c->s.len > 255)
			return vfail(v, "property name length %u", c->s.len);
		return 0;
	case ION_OP_closure: {
		if (c->kind != ION_K_FUNCREF || c->s.len != 0)
			return vfail(v, "constant %u is not a funcref into this class", k);
		const struct ion_kfunc *t = find_func(v->u, &c->s2);
		if (!t)
			return vfail(v, "closure of unknown function '%s'", c->s2.s);
		for (uint16_t i = 0; i < t->nup; i++) {
			if (t->upkind[i] == 0 && t->upidx[i] >= v->f->nregs)
				return vfail(v, "'%s' captures register %u", t->name.s, t->upidx[i]);
			if (t->upkind[i] == 1 && t->upidx[i] >= v->f->nup)
				return vfail(v, "'%s' captures upvalue %u", t->name.s, t->upidx[i]);
		}
		return 0;
	}
	case ION_OP_match:
		if (c->kind != ION_K_MATCH)
			return vfail(v, "constant %u is not a match table", k);
		for (uint32_t i = 0; i < c->n; i++) {
			if (c->targets[i] >= v->f->ncode)
				return vfail(v, "match arm %u jumps to %u (function has %u)", i,
					     c->targets[i], v->f->ncode);
			if (check_pat(v, &c->pats[i]))
				return ION_E_FORMAT;
		}
		return 0;
	default:
		return 0;
	}
}

static int check_operand(struct vctx *v, unsigned op, int slot, unsigned val, unsigned next)
{
	static const char slotname[] = "abcd";
	const struct ion_kfunc *f = v->f;
	switch (ion_op_modes[op][slot]) {
	case ION_MODE_X:
		return val ? vfail(v, "unused operand %c is %u", slotname[slot], val) : 0;
	case ION_MODE_R:
		return val >= f->nregs ? vfail(v, "register %u out of range (%u registers)", val, f->nregs) : 0;
	case ION_MODE_G:
		return val + next > f->nregs ?
			vfail(v, "registers %u..%u out of range (%u registers)", val, val + next, f->nregs) : 0;
	case ION_MODE_K:
		if (val >= v->u->nk)
			return vfail(v, "constant %u out of range (%u constants)", val, v->u->nk);
		return check_const_use(v, op, val);
	case ION_MODE_J:
		return val >= f->ncode ? vfail(v, "jump target %u outside the function (%u instructions)",
					       val, f->ncode) : 0;
	case ION_MODE_U:
		return val >= f->nup ? vfail(v, "upvalue %u out of range (%u upvalues)", val, f->nup) : 0;
	case ION_MODE_N:
		if (op == ION_OP_load_bool && val > 1)
			return vfail(v, "boolean immediate %u", val);
		if (op == ION_OP_define_prop && val > 7)
			return vfail(v, "property flags %#x", val);
		return 0;
	default:
		return 0;
	}
}

static int is_terminator(unsigned op)
{
	return op == ION_OP_jump || op == ION_OP_tail_call || op == ION_OP_return_reg ||
	       op == ION_OP_return_nil || op == ION_OP_exit || op == ION_OP_error;
}

static int verify_func(struct vctx *v)
{
	const struct ion_kfunc *f = v->f;
	if (f->name.len == 0 || f->name.len > 255)
		return vfail(v, "function name length %u", f->name.len);
	if (f->nregs == 0 || f->nregs > 256 || f->arity > f->nregs)
		return vfail(v, "function %s: arity %u with %u registers", f->name.s, f->arity, f->nregs);
	for (uint16_t i = 0; i < f->nup; i++)
		if (f->upkind[i] > 1)
			return vfail(v, "function %s: upvalue kind %u", f->name.s, f->upkind[i]);
	if (f->ncode == 0)
		return vfail(v, "function %s has no instructions", f->name.s);
	for (v->pc = 0; v->pc < f->ncode; v->pc++) {
		uint64_t w = f->code[v->pc];
		unsigned op = ION_INSN_OP(w);
		if (op >= ION_OP__COUNT) {
			v->f = NULL;
			return vfail(v, "function %s: instruction %u: unknown opcode %u", f->name.s, v->pc, op);
		}
		unsigned s[4] = { ION_INSN_A(w), ION_INSN_B(w), ION_INSN_C(w), ION_INSN_D(w) };
		for (int i = 0; i < 4; i++)
			if (check_operand(v, op, i, s[i], i < 3 ? s[i + 1] : 0))
				return ION_E_FORMAT;
		if (v->pc == f->ncode - 1 && !is_terminator(op))
			return vfail(v, "last instruction can fall off the end of the function");
	}
	return 0;
}

int ion_unit_verify(const struct ion_unit *u, char *err, size_t errlen)
{
	struct vctx v = { .u = u, .err = err, .errlen = errlen };
	if (u->nf == 0)
		return vfail(&v, "no functions");
	/* Names first: operand checks look functions up by name. */
	for (uint32_t i = 0; i < u->nf; i++)
		for (uint32_t j = 0; j < i; j++)
			if (strcmp(u->f[i].name.s, u->f[j].name.s) == 0)
				return vfail(&v, "duplicate function '%s'", u->f[i].name.s);
	for (uint32_t i = 0; i < u->nf; i++) {
		v.f = NULL;
		const struct ion_kfunc *f = &u->f[i];
		if (f->name.len == 0 || f->nregs == 0 || f->nregs > 256 || f->arity > f->nregs ||
		    f->ncode == 0) {
			return vfail(&v, "function '%s': arity %u, %u registers, %u instructions",
				     f->name.s, f->arity, f->nregs, f->ncode);
		}
		v.f = f;
		v.pc = 0;
		if (verify_func(&v))
			return ION_E_FORMAT;
	}
	return 0;
}
