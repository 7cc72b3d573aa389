/* disasm.c - printing a unit as assembly text. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ion/asm.h"

static void put_number(struct ion_buf *b, double d)
{
	uint64_t bits;
	memcpy(&bits, &d, sizeof bits);
	if (d != d && bits != 0x7FF8000000000000ull)
		ion_buf_printf(b, "f64(0x%016llx)", (unsigned long long)bits); /* keeps the payload */
	else if (d != d)
		ion_buf_puts(b, "nan");
	else if (isinf(d))
		ion_buf_puts(b, d > 0 ? "inf" : "-inf");
	else
		ion_buf_printf(b, "%.17g", d);
}

static void put_qstr(struct ion_buf *b, const char *s, size_t len)
{
	ion_buf_puts(b, "\"");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			ion_buf_printf(b, "\\%c", c);
		else if (c == '\n')
			ion_buf_puts(b, "\\n");
		else if (c == '\t')
			ion_buf_puts(b, "\\t");
		else if (c < 0x20 || c >= 0x7f)
			ion_buf_printf(b, "\\x%02x", c);
		else
			ion_buf_put(b, (const char *)&c, 1);
	}
	ion_buf_puts(b, "\"");
}

static void put_const(struct ion_buf *b, const struct ion_kconst *k);

static void put_pat(struct ion_buf *b, const struct ion_kpat *p)
{
	switch (p->tag) {
	case ION_PAT_WILD: ion_buf_puts(b, "_"); break;
	case ION_PAT_BIND: ion_buf_printf(b, "$%u", p->reg); break;
	case ION_PAT_LIT: put_const(b, p->lit); break;
	default:
		ion_buf_puts(b, p->tag == ION_PAT_TUPLE ? "{" : "[");
		for (uint16_t i = 0; i < p->n; i++) {
			if (i)
				ion_buf_puts(b, ", ");
			put_pat(b, &p->items[i]);
		}
		ion_buf_puts(b, p->tag == ION_PAT_TUPLE ? "}" : "]");
	}
}

static void put_items(struct ion_buf *b, const struct ion_kconst *k, const char *open, const char *close)
{
	ion_buf_puts(b, open);
	for (uint32_t i = 0; i < k->n; i++) {
		if (i)
			ion_buf_puts(b, ", ");
		put_const(b, &k->items[i]);
	}
	ion_buf_puts(b, close);
}

static void put_const(struct ion_buf *b, const struct ion_kconst *k)
{
	switch (k->kind) {
	case ION_K_NIL: ion_buf_puts(b, "nil"); break;
	case ION_K_FALSE: ion_buf_puts(b, "false"); break;
	case ION_K_TRUE: ion_buf_puts(b, "true"); break;
	case ION_K_NUMBER: put_number(b, k->num); break;
	case ION_K_STRING: put_qstr(b, k->s.s, k->s.len); break;
	case ION_K_ATOM: ion_buf_puts(b, ":"); put_qstr(b, k->s.s, k->s.len); break;
	case ION_K_COMPLEX:
		ion_buf_puts(b, "complex(");
		put_number(b, k->num);
		ion_buf_puts(b, ", ");
		put_number(b, k->im);
		ion_buf_puts(b, ")");
		break;
	case ION_K_TUPLE: put_items(b, k, "{", "}"); break;
	case ION_K_ARRAY: put_items(b, k, "[", "]"); break;
	case ION_K_OBJECT:
		ion_buf_puts(b, "#");
		put_qstr(b, k->s.s, k->s.len);
		ion_buf_puts(b, "{");
		for (uint32_t i = 0; i < k->n; i++) {
			if (i)
				ion_buf_puts(b, ", ");
			put_qstr(b, k->props[i].key.s, k->props[i].key.len);
			ion_buf_printf(b, "/%u: ", k->props[i].flags);
			put_const(b, &k->items[i]);
		}
		ion_buf_puts(b, "}");
		break;
	case ION_K_FUNCREF:
		ion_buf_puts(b, "func(");
		put_qstr(b, k->s.s, k->s.len);
		ion_buf_puts(b, ", ");
		put_qstr(b, k->s2.s, k->s2.len);
		ion_buf_puts(b, ")");
		break;
	case ION_K_NATIVE:
		ion_buf_puts(b, "native(");
		put_qstr(b, k->s.s, k->s.len);
		ion_buf_puts(b, ")");
		break;
	case ION_K_MATCH:
		ion_buf_puts(b, "match(");
		for (uint32_t i = 0; i < k->n; i++) {
			if (i)
				ion_buf_puts(b, ", ");
			put_pat(b, &k->pats[i]);
			ion_buf_printf(b, " -> %u", k->targets[i]);
		}
		ion_buf_puts(b, ")");
		break;
	default: break;
	}
}

static void put_insn(struct ion_buf *b, const struct ion_unit *u, uint32_t idx, uint64_t w)
{
	unsigned op = ION_INSN_OP(w);
	unsigned s[4] = { ION_INSN_A(w), ION_INSN_B(w), ION_INSN_C(w), ION_INSN_D(w) };
	ion_buf_printf(b, "  %4u: %-15s", idx, ion_op_names[op]);
	int kslot = -1;
	for (int i = 0; i < 4; i++) {
		int m = ion_op_modes[op][i];
		if (m == ION_MODE_X)
			continue;
		if (m == ION_MODE_I)
			ion_buf_printf(b, " %d", (int)(int16_t)s[i]);
		else
			ion_buf_printf(b, " %u", s[i]);
		if (m == ION_MODE_K)
			kslot = i;
	}
	if (kslot >= 0 && s[kslot] < u->nk) {
		ion_buf_puts(b, "    ; ");
		put_const(b, &u->k[s[kslot]]);
	}
	ion_buf_puts(b, "\n");
}

void ion_disasm_unit(const struct ion_unit *u, struct ion_buf *b)
{
	ion_buf_puts(b, ".class ");
	put_qstr(b, u->name.s, u->name.len);
	ion_buf_puts(b, "\n");
	for (uint32_t i = 0; i < u->nk; i++) {
		ion_buf_printf(b, ".const %u ", i);
		put_const(b, &u->k[i]);
		ion_buf_puts(b, "\n");
	}
	for (uint32_t i = 0; i < u->nf; i++) {
		const struct ion_kfunc *f = &u->f[i];
		ion_buf_puts(b, ".func ");
		put_qstr(b, f->name.s, f->name.len);
		ion_buf_printf(b, " arity %u regs %u\n", f->arity, f->nregs);
		for (uint16_t j = 0; j < f->nup; j++)
			ion_buf_printf(b, "  .upval %s %u\n", f->upkind[j] ? "up" : "reg", f->upidx[j]);
		for (uint32_t j = 0; j < f->ncode; j++)
			put_insn(b, u, j, f->code[j]);
		ion_buf_puts(b, ".end\n");
	}
}
