/* test_loader.c - the .ionc decoder and verifier, packs and manifests, and
 * fuzz-style truncation and mutation: a bad input is an error, never a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ion/asm.h"
#include "ion/tests/helpers.h"
#include "ion/unit.h"

static const char good_src[] =
	".class \"G\"\n.const 0 42\n.const 1 \"s\"\n.const 2 func(\"\", \"f\")\n"
	".const 3 match({:\"a\", $1} -> 2, [_, 3.5] -> 3)\n.const 4 #\"P\"{\"x\"/7: [1, {2, nil}]}\n"
	".const 5 complex(1, -2)\n.const 6 native(\"io.print\")\n"
	".func \"main\" arity 0 regs 4\n 0: load_const 0 0\n 1: match 0 3\n 2: load_const 1 4\n"
	" 3: load_const 2 2\n 4: call 3 2 0 1\n 5: return_reg 3\n.end\n"
	".func \"f\" arity 1 regs 2\n 0: add_imm 1 0 1\n 1: return_reg 1\n.end\n";

static struct ion_unit *parse_unit(const char *src)
{
	struct ion_asm_pack p;
	char err[512];
	if (ion_asm_parse(src, strlen(src), &p, err, sizeof err))
		fail_msg("%s", err);
	struct ion_unit *u = p.units[0];
	p.units[0] = NULL;
	p.nunits = 0;
	ion_asm_pack_free(&p);
	return u;
}

/* Encodes u as is (the encoder does not verify) and decodes it again. */
static int reload(struct ion_unit *u, char *err, size_t errlen)
{
	uint8_t *data;
	size_t len;
	assert_int_equal(ion_unit_encode(u, &data, &len), 0);
	struct ion_unit *back = NULL;
	int rc = ion_unit_decode(data, len, &back, err, errlen);
	ion_unit_free(back);
	free(data);
	return rc;
}

static void test_good_roundtrip(void **s)
{
	size_t len;
	uint8_t *data = th_encode(good_src, &len);
	struct ion_unit *u;
	char err[512];
	assert_int_equal(ion_unit_decode(data, len, &u, err, sizeof err), 0);
	uint8_t *again;
	size_t len2;
	assert_int_equal(ion_unit_encode(u, &again, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(data, again, len);
	ion_unit_free(u);
	free(again);
	free(data);
}

struct bad_case {
	uint32_t func, pc;
	uint64_t word;
	const char *needle;
};

static void test_verifier_rejects(void **s)
{
	const struct bad_case cases[] = {
		{ 1, 0, ION_INSN_MAKE(ION_OP_add_imm, 2, 0, 1, 0), "register 2 out of range" },
		{ 0, 0, ION_INSN_MAKE(ION_OP_load_const, 0, 7, 0, 0), "constant 7 out of range" },
		{ 0, 1, ION_INSN_MAKE(ION_OP_jump, 0, 6, 0, 0), "jump target 6 outside" },
		{ 0, 5, ION_INSN_MAKE(ION_OP_move, 0, 1, 0, 0), "fall off the end" },
		{ 0, 0, ION_INSN_MAKE(200, 0, 0, 0, 0), "unknown opcode 200" },
		{ 0, 0, ION_INSN_MAKE(ION_OP_move, 0, 1, 5, 0), "unused operand c" },
		{ 0, 4, ION_INSN_MAKE(ION_OP_call, 3, 2, 1, 4), "registers 1..5 out of range" },
		{ 0, 0, ION_INSN_MAKE(ION_OP_load_const, 0, 3, 0, 0), "is a match table" },
		{ 0, 0, ION_INSN_MAKE(ION_OP_get_prop, 0, 0, 0, 0), "not a property name" },
		{ 0, 1, ION_INSN_MAKE(ION_OP_match, 0, 0, 0, 0), "not a match table" },
		{ 0, 0, ION_INSN_MAKE(ION_OP_closure, 0, 1, 0, 0), "not a funcref" },
		{ 0, 0, ION_INSN_MAKE(ION_OP_get_upval, 0, 0, 0, 0), "upvalue 0 out of range" },
		{ 0, 0, ION_INSN_MAKE(ION_OP_load_bool, 0, 2, 0, 0), "boolean immediate" },
		{ 0, 0, ION_INSN_MAKE(ION_OP_define_prop, 0, 1, 0, 9), "property flags" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct ion_unit *u = parse_unit(good_src);
		u->f[cases[i].func].code[cases[i].pc] = cases[i].word;
		char err[512] = "";
		if (reload(u, err, sizeof err) != ION_E_FORMAT)
			fail_msg("case %zu was accepted", i);
		if (!strstr(err, cases[i].needle))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].needle);
		ion_unit_free(u);
	}
}

static void test_verifier_structure(void **s)
{
	char err[512];
	struct ion_unit *u = parse_unit(good_src);
	u->f[1].arity = 3; /* more parameters than registers */
	assert_int_equal(reload(u, err, sizeof err), ION_E_FORMAT);
	assert_non_null(strstr(err, "arity 3"));
	ion_unit_free(u);

	u = parse_unit(good_src);
	u->f[1].name = u->f[0].name;
	assert_int_equal(reload(u, err, sizeof err), ION_E_FORMAT);
	assert_non_null(strstr(err, "duplicate function"));
	ion_unit_free(u);

	u = parse_unit(good_src);
	u->k[3].targets[1] = 99; /* match arm outside the function */
	assert_int_equal(reload(u, err, sizeof err), ION_E_FORMAT);
	assert_non_null(strstr(err, "match arm 1 jumps to 99"));
	ion_unit_free(u);

	u = parse_unit(good_src);
	u->k[3].pats[0].items[1].reg = 9; /* binds a register main lacks */
	assert_int_equal(reload(u, err, sizeof err), ION_E_FORMAT);
	assert_non_null(strstr(err, "binds register 9"));
	ion_unit_free(u);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void fix_crc(uint8_t *d, size_t len)
{
	if (len >= ION_HEADER_SIZE)
		put_u32(d + 16, ion_crc32(d + ION_HEADER_SIZE, len - ION_HEADER_SIZE));
}

static void test_header_checks(void **s)
{
	size_t len;
	uint8_t *d = th_encode(good_src, &len);
	char err[512];
	struct ion_unit *u = NULL;
	struct { size_t off; uint8_t val; const char *needle; } cases[] = {
		{ 0, 'X', "bad magic" }, { 4, 2, "unsupported format version 2.0" },
		{ 6, 9, "unsupported format version 1.9" }, { 8, 1, "unknown header flags" },
		{ 12, 0xFF, "payload length" }, { 30, 0x55, "checksum mismatch" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		uint8_t *m = malloc(len);
		memcpy(m, d, len);
		m[cases[i].off] = cases[i].val;
		assert_int_equal(ion_unit_decode(m, len, &u, err, sizeof err), ION_E_FORMAT);
		if (!strstr(err, cases[i].needle))
			fail_msg("header case %zu: '%s'", i, err);
		free(m);
	}
	/* a stray byte after a correct payload, with length and CRC fixed up */
	uint8_t *m = malloc(len + 1);
	memcpy(m, d, len);
	m[len] = 0;
	put_u32(m + 12, (uint32_t)(len + 1 - ION_HEADER_SIZE));
	fix_crc(m, len + 1);
	assert_int_equal(ion_unit_decode(m, len + 1, &u, err, sizeof err), ION_E_FORMAT);
	assert_non_null(strstr(err, "stray bytes"));
	free(m);
	free(d);
}

/* Every truncation fails cleanly; with the length and CRC patched so the
 * parser proper sees the short payload, it must still fail, not crash. */
static void test_fuzz_truncation(void **s)
{
	size_t len;
	uint8_t *d = th_encode(good_src, &len);
	char err[512];
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *m = malloc(cut ? cut : 1);
		memcpy(m, d, cut);
		struct ion_unit *u = NULL;
		assert_int_not_equal(ion_unit_decode(m, cut, &u, err, sizeof err), 0);
		if (cut >= ION_HEADER_SIZE) {
			put_u32(m + 12, (uint32_t)(cut - ION_HEADER_SIZE));
			fix_crc(m, cut);
			assert_int_not_equal(ion_unit_decode(m, cut, &u, err, sizeof err), 0);
		}
		free(m);
	}
	free(d);
}

/* Random byte mutations with the CRC recomputed: whatever the decoder
 * accepts must verify and link or fail with a message. */
static void test_fuzz_mutation(void **s)
{
	size_t len;
	uint8_t *d = th_encode(good_src, &len);
	uint32_t seed = 0x1234567;
	int accepted = 0;
	char err[512];
	for (int iter = 0; iter < 20000; iter++) {
		uint8_t *m = malloc(len);
		memcpy(m, d, len);
		int flips = 1 + (int)(th_rand(&seed) % 4);
		for (int f = 0; f < flips; f++) {
			size_t at = ION_HEADER_SIZE + th_rand(&seed) % (len - ION_HEADER_SIZE);
			m[at] = (th_rand(&seed) & 1) ? (uint8_t)th_rand(&seed) : (uint8_t)(m[at] ^ (1u << (th_rand(&seed) % 8)));
		}
		fix_crc(m, len);
		struct ion_unit *u = NULL;
		if (ion_unit_decode(m, len, &u, err, sizeof err) == 0) {
			accepted++;
			assert_int_equal(ion_unit_verify(u, err, sizeof err), 0);
			ion_unit_free(u);
			struct ion_vm *vm = ion_vm_new(NULL);
			if (ion_vm_load_class(vm, m, len) == 0)
				(void)ion_vm_link(vm);
			ion_vm_free(vm);
		} else {
			assert_true(err[0] != 0);
		}
		free(m);
	}
	/* some mutations (inside constants' payloads) are harmless */
	assert_true(accepted > 0);
	free(d);
}

/* Mutated instructions that still verify must run without crashing: the
 * verifier's promises are what the interpreter relies on. Runs are bounded
 * by max_reductions; receive_timeout is left out (a mutated timeout could
 * sleep for long). */
static const char run_src[] =
	".class \"F\"\n.const 0 func(\"\", \"g\")\n.const 1 #\"\"{\"k\"/7: 1}\n.const 2 \"k\"\n"
	".const 3 match({$1, _} -> 9, [$2] -> 3)\n.const 4 func(\"\", \"h\")\n.const 5 complex(1, 2)\n"
	".func \"main\" arity 0 regs 6\n 0: load_int 0 3\n 1: load_const 1 1\n 2: get_prop 2 1 2\n"
	" 3: add 3 0 2\n 4: new_tuple 4 0 2\n 5: match 4 3\n 6: load_const 5 0\n 7: call 3 5 0 1\n"
	" 8: closure 5 4\n 9: new_array 4 2 3\n 10: set_index 4 0 3\n 11: load_const 2 5\n"
	" 12: mul 3 2 2\n 13: spawn 4 5 4\n 14: len 3 4\n 15: jump_lt 0 3 17\n 16: set_prop 1 2 3\n"
	" 17: return_reg 3\n.end\n"
	".func \"g\" arity 1 regs 3\n 0: add_imm 1 0 -1\n 1: load_const 2 0\n 2: jump_le 1 0 4\n"
	" 3: tail_call 2 1 1\n 4: return_reg 1\n.end\n"
	".func \"h\" arity 0 regs 2\n .upval reg 0\n .upval reg 3\n get_upval 0 1\n set_upval 0 0\n"
	" return_reg 0\n.end\n";

static void test_fuzz_run(void **s)
{
	uint32_t seed = 99;
	int ran = 0;
	char err[512];
	for (int iter = 0; iter < 3000; iter++) {
		struct ion_unit *u = parse_unit(run_src);
		for (int m = 0; m < 2; m++) {
			struct ion_kfunc *f = &u->f[th_rand(&seed) % u->nf];
			uint64_t *w = &f->code[th_rand(&seed) % f->ncode];
			unsigned op = ION_INSN_OP(*w), a = ION_INSN_A(*w), b = ION_INSN_B(*w);
			unsigned c = ION_INSN_C(*w), d = ION_INSN_D(*w), v = th_rand(&seed) % 8;
			switch (th_rand(&seed) % 5) {
			case 0: op = th_rand(&seed) % ION_OP__COUNT; break;
			case 1: a = v; break;
			case 2: b = v; break;
			case 3: c = v; break;
			default: d = v; break;
			}
			if (op == ION_OP_receive_timeout)
				op = ION_OP_nop;
			*w = ION_INSN_MAKE(op, a, b, c, d);
		}
		uint8_t *data;
		size_t len;
		assert_int_equal(ion_unit_encode(u, &data, &len), 0);
		ion_unit_free(u);
		struct ion_unit *back;
		if (ion_unit_decode(data, len, &back, err, sizeof err) == 0) {
			ion_unit_free(back);
			struct ion_config cfg = { .max_reductions = 20000 };
			struct ion_vm *vm = ion_vm_new(&cfg);
			assert_int_equal(ion_vm_load_class(vm, data, len), 0);
			if (ion_vm_link(vm) == 0) {
				ion_value r;
				int rc = ion_vm_run(vm, "F", "main", 0, NULL, &r);
				assert_true(rc == 0 || rc == ION_E_RUNTIME || rc == ION_E_DEADLOCK ||
					    rc == ION_E_LIMIT || rc == ION_E_LINK);
				ran++;
			}
			ion_vm_free(vm);
		}
		free(data);
	}
	assert_true(ran > 100);
}

/* ---- packs ---- */

static char *const mkeys[] = { "manifest-version", "name", "version", "main-class", "entry-point",
			       "format-version" };

static uint8_t *build_pack(char *const *values, const char *src, size_t *len)
{
	char path[] = "/tmp/ion-test-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct ion_unit *u = parse_unit(src);
	char err[512];
	if (ion_pack_write(path, mkeys, values, 6, &u, 1, err, sizeof err))
		fail_msg("%s", err);
	ion_unit_free(u);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	uint8_t *d = malloc(*len);
	assert_int_equal(fread(d, 1, *len, f), *len);
	fclose(f);
	unlink(path);
	return d;
}

static int load_pack(const uint8_t *d, size_t len, char *err, size_t errlen)
{
	struct ion_vm *vm = ion_vm_new(NULL);
	int rc = ion_vm_load_pack_mem(vm, d, len);
	snprintf(err, errlen, "%s", ion_vm_error(vm));
	if (rc == 0) {
		ion_value r;
		rc = ion_vm_run(vm, NULL, NULL, 0, NULL, &r);
		snprintf(err, errlen, "%s", rc ? ion_vm_error(vm) : ion_vm_result_text(vm));
	}
	ion_vm_free(vm);
	return rc;
}

static void test_pack_load_and_errors(void **s)
{
	char *good[] = { "1", "demo", "1.0.0", "G", "main", "1.0" };
	char err[1024];
	size_t len;
	uint8_t *d = build_pack(good, good_src, &len);
	assert_int_equal(load_pack(d, len, err, sizeof err), 0);
	assert_string_equal(err, "43");
	free(d);

	struct { int key; char *value; const char *needle; } cases[] = {
		{ 0, "2", "manifest-version" }, { 5, "2.0", "format-version" },
		{ 3, "Nope", "main class Nope" }, { 4, "nope", "entry point G.nope not found" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *vals[6];
		memcpy(vals, good, sizeof vals);
		vals[cases[i].key] = cases[i].value;
		d = build_pack(vals, good_src, &len);
		assert_int_not_equal(load_pack(d, len, err, sizeof err), 0);
		if (!strstr(err, cases[i].needle))
			fail_msg("pack case %zu: '%s'", i, err);
		free(d);
	}
	d = build_pack(good, good_src, &len);
	assert_int_equal(load_pack(d, len / 2, err, sizeof err), ION_E_FORMAT);
	free(d);
}

static void test_manifest_parse(void **s)
{
	char err[1024];
	size_t len;
	char *vals[] = { "1", "demo", "1.0.0", "G", "main", "1.0" };
	uint8_t *d = build_pack(vals, good_src, &len);
	/* a key twice is an error, even in an otherwise good manifest */
	struct ion_vm *vm = ion_vm_new(NULL);
	assert_int_equal(ion_vm_load_pack_mem(vm, d, len), 0);
	assert_string_equal(ion_vm_manifest(vm, "name"), "demo");
	assert_int_not_equal(ion_vm_load_pack_mem(vm, d, len), 0);
	assert_non_null(strstr(ion_vm_error(vm), "twice"));
	ion_vm_free(vm);
	free(d);
	(void)err;
}

static void test_fuzz_pack(void **s)
{
	char *vals[] = { "1", "demo", "1.0.0", "G", "main", "1.0" };
	size_t len;
	uint8_t *d = build_pack(vals, good_src, &len);
	char err[1024];
	uint32_t seed = 42;
	for (size_t cut = 0; cut < len; cut += 7)
		assert_int_not_equal(load_pack(d, cut, err, sizeof err), 0);
	for (int iter = 0; iter < 3000; iter++) {
		uint8_t *m = malloc(len);
		memcpy(m, d, len);
		for (int f = 0; f < 3; f++)
			m[th_rand(&seed) % len] = (uint8_t)th_rand(&seed);
		int rc = load_pack(m, len, err, sizeof err);
		if (rc)
			assert_true(err[0] != 0);
		free(m);
	}
	free(d);
}

static void test_link_errors(void **s)
{
	struct { const char *src; const char *needle; } cases[] = {
		{ ".class \"L\"\n.const 0 native(\"no.such\")\n.func \"main\" arity 0 regs 1\n"
		  " load_const 0 0\n return_reg 0\n.end\n", "unknown native 'no.such'" },
		{ ".class \"L\"\n.const 0 func(\"Other\", \"f\")\n.func \"main\" arity 0 regs 1\n"
		  " load_const 0 0\n return_reg 0\n.end\n", "unknown class 'Other'" },
	};
	for (size_t i = 0; i < 2; i++) {
		size_t len;
		uint8_t *d = th_encode(cases[i].src, &len);
		struct ion_vm *vm = ion_vm_new(NULL);
		assert_int_equal(ion_vm_load_class(vm, d, len), 0);
		assert_int_equal(ion_vm_link(vm), ION_E_LINK);
		if (!strstr(ion_vm_error(vm), cases[i].needle))
			fail_msg("link case %zu: %s", i, ion_vm_error(vm));
		ion_vm_free(vm);
		free(d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_roundtrip), cmocka_unit_test(test_verifier_rejects),
		cmocka_unit_test(test_verifier_structure), cmocka_unit_test(test_header_checks),
		cmocka_unit_test(test_fuzz_truncation), cmocka_unit_test(test_fuzz_mutation),
		cmocka_unit_test(test_fuzz_run),
		cmocka_unit_test(test_pack_load_and_errors), cmocka_unit_test(test_manifest_parse),
		cmocka_unit_test(test_fuzz_pack), cmocka_unit_test(test_link_errors),
	};
	return cmocka_run_group_tests_name("ion_loader", tests, NULL, NULL);
}
