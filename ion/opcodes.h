/* IonVM instruction set: the one table every other part is generated from.
 *
 * Instruction word: 64 bits, little-endian.
 *
 *   63         48 47         32 31         16 15    8 7     0
 *  +-------------+-------------+-------------+-------+-------+
 *  |   d (u16)   |   c (u16)   |   b (u16)   | a(u8) | op(u8)|
 *  +-------------+-------------+-------------+-------+-------+
 *
 * Operand modes (one per slot a, b, c, d):
 *   X  unused: must be zero
 *   R  register index, < the function's register count
 *   G  first register of a range whose length is the NEXT slot (mode N):
 *      base + count <= register count
 *   K  constant-pool index of the class, < constant count (kind checked per op)
 *   J  jump target: absolute instruction index inside the function
 *   U  upvalue index, < the function's upvalue count
 *   N  unsigned immediate
 *   I  signed 16-bit immediate (two's complement in the slot)
 *
 * Python constructors take the used operands in slot order a, b, c, d.
 * Number values are IEEE doubles; "truthy" means neither nil nor false.
 * Opcode numbers are the row order below, starting at 0; new opcodes are only
 * ever appended (after a format has been released, with a minor version
 * bump; loop_lt joined 1.0 before its release).
 */
#ifndef ION_OPCODES_H
#define ION_OPCODES_H

/*  name             a  b  c  d   meaning */
#define ION_OPCODES(OP) \
	OP(nop,             X, X, X, X, "do nothing") \
	OP(move,            R, R, X, X, "R[a] = R[b]") \
	OP(load_const,      R, K, X, X, "R[a] = K[b] (tuple/array/object constants are copied fresh)") \
	OP(load_nil,        R, X, X, X, "R[a] = nil") \
	OP(load_bool,       R, N, X, X, "R[a] = (b != 0); b must be 0 or 1") \
	OP(load_int,        R, I, X, X, "R[a] = number(signed b)") \
	OP(add,             R, R, R, X, "R[a] = R[b] + R[c] (numbers, complex, string concat, __add)") \
	OP(sub,             R, R, R, X, "R[a] = R[b] - R[c] (numbers, complex, __sub)") \
	OP(mul,             R, R, R, X, "R[a] = R[b] * R[c] (numbers, complex, string*number repeat, __mul)") \
	OP(div,             R, R, R, X, "R[a] = R[b] / R[c] (numbers, complex, __div)") \
	OP(mod,             R, R, R, X, "R[a] = R[b] - floor(R[b]/R[c])*R[c] (numbers)") \
	OP(pow,             R, R, R, X, "R[a] = R[b] ^ R[c] (numbers)") \
	OP(add_imm,         R, R, I, X, "R[a] = R[b] + signed c (numbers)") \
	OP(neg,             R, R, X, X, "R[a] = -R[b] (numbers, complex)") \
	OP(logical_not,     R, R, X, X, "R[a] = not truthy(R[b])") \
	OP(logical_and,     R, R, R, X, "R[a] = truthy(R[b]) ? R[c] : R[b]") \
	OP(logical_or,      R, R, R, X, "R[a] = truthy(R[b]) ? R[b] : R[c]") \
	OP(eq,              R, R, R, X, "R[a] = R[b] == R[c] (structural for values, identity for mutables, __eq)") \
	OP(ne,              R, R, R, X, "R[a] = not (R[b] == R[c])") \
	OP(lt,              R, R, R, X, "R[a] = R[b] < R[c] (numbers, or strings bytewise)") \
	OP(le,              R, R, R, X, "R[a] = R[b] <= R[c]") \
	OP(gt,              R, R, R, X, "R[a] = R[b] > R[c]") \
	OP(ge,              R, R, R, X, "R[a] = R[b] >= R[c]") \
	OP(jump,            X, J, X, X, "pc = b") \
	OP(jump_if,         R, J, X, X, "if truthy(R[a]) pc = b") \
	OP(jump_if_not,     R, J, X, X, "if not truthy(R[a]) pc = b") \
	OP(jump_lt,         R, R, J, X, "if R[a] < R[b] pc = c") \
	OP(jump_le,         R, R, J, X, "if R[a] <= R[b] pc = c") \
	OP(jump_eq,         R, R, J, X, "if R[a] == R[b] pc = c") \
	OP(jump_ne,         R, R, J, X, "if not (R[a] == R[b]) pc = c") \
	OP(call,            R, R, G, N, "R[a] = R[b](R[c] .. R[c+d-1])") \
	OP(tail_call,       X, R, G, N, "return R[b](R[c] .. R[c+d-1]), reusing the frame") \
	OP(return_reg,      R, X, X, X, "return R[a]") \
	OP(return_nil,      X, X, X, X, "return nil") \
	OP(closure,         R, K, X, X, "R[a] = closure of K[b] (same-class funcref), capturing its upvalues") \
	OP(get_upval,       R, U, X, X, "R[a] = upvalue[b]") \
	OP(set_upval,       R, U, X, X, "upvalue[b] = R[a]") \
	OP(new_object,      R, X, X, X, "R[a] = new empty object (no prototype, no type name)") \
	OP(new_array,       R, G, N, X, "R[a] = [R[b] .. R[b+c-1]]") \
	OP(new_tuple,       R, G, N, X, "R[a] = {R[b] .. R[b+c-1]}") \
	OP(get_prop,        R, R, K, X, "R[a] = R[b].K[c] along the prototype chain, nil if absent") \
	OP(set_prop,        R, K, R, X, "R[a].K[b] = R[c] (error if not writable)") \
	OP(define_prop,     R, K, R, N, "define own R[a].K[b] = R[c] with flags d (1 writable 2 enumerable 4 configurable)") \
	OP(delete_prop,     R, K, X, X, "delete own R[a].K[b] (error if not configurable)") \
	OP(get_index,       R, R, R, X, "R[a] = R[b][R[c]] (array/tuple/string by number, object by string/atom)") \
	OP(set_index,       R, R, R, X, "R[a][R[b]] = R[c] (array by number, object by string/atom)") \
	OP(get_proto,       R, R, X, X, "R[a] = prototype of object R[b] (nil if none)") \
	OP(set_proto,       R, R, X, X, "prototype of object R[a] = R[b] (object or nil; no cycles)") \
	OP(len,             R, R, X, X, "R[a] = length of string/array/tuple, own property count of object") \
	OP(type_of,         R, R, X, X, "R[a] = atom naming R[b]'s kind (or the object's type name)") \
	OP(match,           R, K, X, X, "match R[a] against match table K[b]: bind and jump to the first arm that fits, else fall through") \
	OP(spawn,           R, R, R, X, "R[a] = pid of new process running R[b] with args from tuple/array R[c] (nil = none)") \
	OP(send,            R, R, X, X, "send a copy of R[b] to process R[a]") \
	OP(receive,         R, X, X, X, "R[a] = oldest message, waiting until one arrives") \
	OP(receive_timeout, R, R, J, X, "R[a] = oldest message; if none within R[b] ms, pc = c") \
	OP(self,            R, X, X, X, "R[a] = pid of the running process") \
	OP(link,            R, X, X, X, "link the running process with process R[a]") \
	OP(unlink,          R, X, X, X, "remove the link with process R[a]") \
	OP(monitor,         R, R, X, X, "R[a] = monitor reference for process R[b]") \
	OP(trap_exit,       R, X, X, X, "trap exit signals from links as messages iff truthy(R[a])") \
	OP(exit,            R, X, X, X, "end the running process with reason R[a]") \
	OP(error,           R, X, X, X, "raise an error with value R[a] (uncaught: the process crashes)") \
	OP(loop_lt,         R, R, J, X, "R[a] = R[a] + 1; if R[a] < R[b] pc = c (numbers; a counted loop in one step)")

enum ion_opcode {
#define ION_OP_ENUM(name, a, b, c, d, doc) ION_OP_##name,
	ION_OPCODES(ION_OP_ENUM)
#undef ION_OP_ENUM
	ION_OP__COUNT
};

enum ion_operand_mode {
	ION_MODE_X, ION_MODE_R, ION_MODE_G, ION_MODE_K,
	ION_MODE_J, ION_MODE_U, ION_MODE_N, ION_MODE_I
};

/* Field extraction from one instruction word. */
#define ION_INSN_OP(w) ((unsigned)((w) & 0xffu))
#define ION_INSN_A(w)  ((unsigned)(((w) >> 8) & 0xffu))
#define ION_INSN_B(w)  ((unsigned)(((w) >> 16) & 0xffffu))
#define ION_INSN_C(w)  ((unsigned)(((w) >> 32) & 0xffffu))
#define ION_INSN_D(w)  ((unsigned)(((w) >> 48) & 0xffffu))
#define ION_INSN_SB(w) ((int)(int16_t)ION_INSN_B(w))
#define ION_INSN_SC(w) ((int)(int16_t)ION_INSN_C(w))
#define ION_INSN_MAKE(op, a, b, c, d) \
	((uint64_t)(op) | ((uint64_t)(a) << 8) | ((uint64_t)(b) << 16) | \
	 ((uint64_t)(c) << 32) | ((uint64_t)(d) << 48))

#endif
