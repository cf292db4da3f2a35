#!/usr/bin/env python3
"""Writes the small committed seed corpus of each fuzz target (corpus/<target>/): hand-built inputs that reach each
type combination, bad indices at chosen positions, extreme sizes and options, plus a few seeded random ones.
The byte layout follows fuzz_common.h's Reader (little-endian u16/u64; below(b) reads a u16). Re-run after changing
a target's input layout; scripts/fuzz adds nothing here (new inputs go to target/fuzz/corpus)."""
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def u8(x):
    return struct.pack("<B", x & 0xFF)


def u16(x):
    return struct.pack("<H", x & 0xFFFF)


def u64(x):
    return struct.pack("<Q", x & 0xFFFFFFFFFFFFFFFF)


def good(r):
    return u8(0) + u16(r)


BAD = {"minus1": u8(200), "rows": u8(201), "min64": u8(203), "max64": u8(204), "2^32": u8(207), "random": u8(209) + u64(0xDEADBEEFCAFEF00D)}


def indices(n, rows, bad_at=None, bad="minus1"):
    out = b""
    for i in range(n):
        out += BAD[bad] if i == bad_at else good((i * 7) % max(rows, 1))
    return out


def values(count, seed):
    rnd = random.Random(seed)
    return b"".join(u8(rnd.randrange(200)) + u8(rnd.randrange(256)) for _ in range(count))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def sizes(dim, rows, n, huge=None):
    head = u16(dim)
    if dim == 0:
        head += u8(1 if huge is not None else 0)
        head += u64(huge) if huge is not None else u16(rows)
    else:
        head += u16(rows)
    return head + u16(n)


def main():
    rnd = random.Random(20261122)
    for t in range(4):
        write("gather", f"t{t}_ok", u8(t) + sizes(9, 17, 40) + indices(40, 17))
        write("gather", f"t{t}_bad_at_5", u8(t) + sizes(16, 10, 30) + indices(30, 10, 5, ["minus1", "rows", "min64", "2^32"][t]))
        write("gather", f"t{t}_dim0_huge", u8(t) + sizes(0, 0, 8, huge=1 << 40) + indices(8, 1 << 16))
        write("renorm", f"t{t}_p2", u8(t) + sizes(33, 12, 50) + u8(2) + u8(0) + u8(0) + indices(50, 12) + values(12 * 33, t))
        write("renorm", f"t{t}_pinf_bad", u8(t) + sizes(8, 6, 20) + u8(1) + u8(3) + u8(0) + indices(20, 6, 19, "max64") + values(48, t))
        write("renorm", f"t{t}_p0_dim1", u8(t) + sizes(1, 9, 30) + u8(3) + u8(2) + u8(0) + indices(30, 9) + values(9, t))
        write("renorm", f"t{t}_specials", u8(t) + sizes(17, 5, 12) + u8(0) + u8(7) + u8(1) + indices(12, 5) + bytes(rnd.randrange(256) for _ in range(300)))
        write("dense_backward", f"t{t}_plain", u8(t) + sizes(10, 20, 60) + u8(0) + u8(0) + u8(0) + u8(0) + indices(60, 20) + values(600 + 200, t))
        write("dense_backward", f"t{t}_pad_scale_owners3", u8(t) + sizes(24, 15, 45) + u8(150) + u16(4) + u8(1) + u8(0) + u8(2) + indices(45, 15) + values(45 * 24 + 15 * 24, t))
        write("dense_backward", f"t{t}_bad_owner", u8(t) + sizes(5, 8, 10) + u8(0) + u8(0) + u8(0) + u8(231) + indices(10, 8) + values(90, t))
        write("dense_backward", f"t{t}_bad_index", u8(t) + sizes(5, 8, 10) + u8(0) + u8(1) + u8(0) + u8(1) + indices(10, 8, 9, "rows") + values(90, t))
    for t in range(2):
        for op in range(3):
            write("sparse_optim", f"t{t}_op{op}_ok", u8(t) + u8(op) + sizes(12, 20, 16) + u8(0) + u8(op % 2) + u8(3) + u8(4) + u8(5) + u8(7) + indices(16, 20) + values(16 * 12 + 3 * 20 * 12, op))
            write("sparse_optim", f"t{t}_op{op}_bad", u8(t) + u8(op) + sizes(4, 6, 9) + u8(0) + u8(0) + u8(1) + u8(2) + u8(3) + u8(4) + indices(9, 6, 4, "2^32") + values(200, op))
    write("memory", "alloc_copy_free", u8(12) + u8(0) + u8(0) + u8(0) + u8(10) + u16(1000) + u8(7) + u8(0) + u8(1) + u8(1) + u8(10) + u16(3000) + u8(9)
          + u8(1) + u8(0) + u8(1) + u8(100) + u16(700) + u8(2) + u8(0) + u8(0))
    write("memory", "huge_and_negative", u8(6) + u8(0) + u8(2) + u8(2) + u8(205) + u16(10) + u8(1) + u8(0) + u8(3) + u8(3) + u8(220) + u16(5)
          + u8(0) + u8(4) + u8(4) + u8(195) + u8(3))
    write("memory", "variants", u8(4) + u8(3) + u8(0) + u8(0) + struct.pack("<I", 1) + u8(3) + u8(0) + u8(0) + struct.pack("<I", 2)
          + u8(3) + u8(0) + u8(0) + struct.pack("<I", 0xFFFFFFFF) + u8(3) + u8(0) + u8(0) + struct.pack("<I", 3))
    # bag: type, dim (u16), rows (u16), mode (u16), bags (u16), fixed (u8), options (u8: 1 weights, 2 fused, 4 specials,
    # 8 scale_grad_by_freq, 16 padding row, 32 any padding value, 64/128 owners - 1), padding, then per bag a size kind
    # (u8, >= 240: an arbitrary offset follows) or the fixed bag size (u16), a flag keeping n, indices, weights, table
    # and output gradient values.
    def bag(t, dim, rows, mode, kinds, options=0, pad=None, fixed_size=None, bad_at=None, bad="minus1", tail=b""):
        head = u8(t) + sizes(dim, rows, 0)[:-2] + u16(mode) + u16(len(kinds)) + u8(1 if fixed_size is not None else 0)
        head += u8(options) + (u16(pad) if pad is not None else b"")
        if fixed_size is not None:
            head += u16(fixed_size)
            n = fixed_size * len(kinds)
        else:
            n = 0
            for k in kinds:
                head += u8(k) if not isinstance(k, tuple) else u8(240) + good(k[1])
                n += k % 9 if not isinstance(k, tuple) else 0
            head += u8(1)
        return head + indices(n, rows, bad_at, bad) + values(n + rows * dim + len(kinds) * dim, t) + tail
    for t in range(4):
        write("bag", f"t{t}_sum", bag(t, 9, 17, 0, [3, 0, 1, 8, 2]))
        write("bag", f"t{t}_mean_padding", bag(t, 33, 12, 1, [4, 0, 6, 1], options=16, pad=3))
        write("bag", f"t{t}_max_2d", bag(t, 7, 10, 2, [0, 0, 0], fixed_size=4))
        write("bag", f"t{t}_psw_fused_scaled_owners3", bag(t, 16, 20, 0, [5, 5, 0, 7], options=1 | 2 | 8 | 128))
        write("bag", f"t{t}_psw_unfused_padding", bag(t, 3, 9, 0, [2, 6, 1], options=1 | 16, pad=0))
        write("bag", f"t{t}_bad_offsets", bag(t, 5, 8, 1, [3, 4, (0, 1), 2]))
        write("bag", f"t{t}_bad_index", bag(t, 8, 6, t % 3, [2, 7, 3], bad_at=8, bad=["minus1", "rows", "min64", "2^32"][t]))
        write("bag", f"t{t}_max_specials", bag(t, 17, 5, 2, [6, 6], options=4 | 64) + bytes(random.Random(t).randrange(256) for _ in range(300)))
    for target in ["gather", "renorm", "dense_backward", "sparse_optim", "memory", "bag"]:
        for k in range(4):
            write(target, f"random_{k}", bytes(rnd.randrange(256) for _ in range(rnd.randrange(16, 400))))
    # 16-bit tables (float16/bfloat16): gather types 4 and 5; the half target's bags (types 0-3: f16 i64, f16 i32,
    # bf16 i64, bf16 i32; the bag layout above, 16-bit patterns after the indices) and conversions (type 4: a count,
    # then per element a float's bits and a 16-bit pattern). Their own generator, so the seeds above stay as they are.
    rnd16 = random.Random(20261202)
    for t in (4, 5):
        write("gather", f"t{t}_ok", u8(t) + sizes(9, 17, 40) + indices(40, 17))
        write("gather", f"t{t}_bad_at_5", u8(t) + sizes(16, 10, 30) + indices(30, 10, 5, ["minus1", "rows"][t - 4]))
        write("gather", f"t{t}_dim0_huge", u8(t) + sizes(0, 0, 8, huge=1 << 40) + indices(8, 1 << 16))
        write("gather", f"t{t}_odd_dims", u8(t) + sizes(3, 17, 40) + indices(40, 17))
    for t in range(4):
        write("half", f"t{t}_sum", bag(t, 9, 17, 0, [3, 0, 1, 8, 2]))
        write("half", f"t{t}_mean_padding", bag(t, 33, 12, 1, [4, 0, 6, 1], options=16, pad=3))
        write("half", f"t{t}_max_2d", bag(t, 7, 10, 2, [0, 0, 0], fixed_size=4))
        write("half", f"t{t}_psw_fused", bag(t, 16, 20, 0, [5, 5, 0, 7], options=1 | 2))
        write("half", f"t{t}_psw_unfused_padding", bag(t, 3, 9, 0, [2, 6, 1], options=1 | 16, pad=0))
        write("half", f"t{t}_bad_offsets", bag(t, 5, 8, 1, [3, 4, (0, 1), 2]))
        write("half", f"t{t}_bad_index", bag(t, 8, 6, t % 3, [2, 7, 3], bad_at=8, bad=["minus1", "rows", "min64", "2^32"][t]))
        write("half", f"t{t}_specials", bag(t, 17, 5, t % 3, [6, 6], options=4) + bytes(rnd16.randrange(256) for _ in range(300)))
    for count in (1, 8, 17, 64):
        write("half", f"t4_convert_{count}", u8(4) + u16(count) + bytes(rnd16.randrange(256) for _ in range(8 * count)))
    for k in range(4):
        write("half", f"random_{k}", bytes(rnd16.randrange(256) for _ in range(rnd16.randrange(16, 400))))

    # quant_bag (appended last, so the files above stay as they were): type (u8: 0 int64, 1 int32), dim (u16), rows
    # (u16), mode (u16), bags (u16), fixed, weighted, specials (u8 flags), then per bag a size kind (u8; >= 240: an
    # arbitrary offset follows) or the fixed bag size (u16), a flag keeping n, the indices, the weights, and per row
    # its code bytes then its scale and bias values.
    # Types 2 and 3 are 4-bit rows: dim / 2 (u16) and an odd-dim flag (u8, 255: odd, refused), dim / 2 code bytes.
    def quant_bag(t, dim, rows, mode, kinds, weighted=0, specials=0, fixed_size=None, bad_at=None, bad="minus1"):
        four = t >= 2
        head = u8(t) + (u16(dim // 2) + u8(255 if dim % 2 else 0) if four else u16(dim)) + u16(rows) + u16(mode)
        head += u16(len(kinds)) + u8(1 if fixed_size is not None else 0)
        head += u8(weighted) + u8(specials)
        if fixed_size is not None:
            head += u16(fixed_size)
            n = fixed_size * len(kinds)
        else:
            n = 0
            for k in kinds:
                head += u8(k) if not isinstance(k, tuple) else u8(240) + good(k[1])
                n += k % 9 if not isinstance(k, tuple) else 0
            head += u8(1)
        rnd_q = random.Random(1000 + t)
        code_bytes = dim // 2 if four else dim
        table = b"".join(bytes(rnd_q.randrange(256) for _ in range(code_bytes)) + values(2, r) for r in range(rows))
        return head + indices(n, rows, bad_at, bad) + values(n, t) + table
    for t in range(2):
        write("quant_bag", f"t{t}_sum", quant_bag(t, 9, 17, 0, [3, 0, 1, 8, 2]))
        write("quant_bag", f"t{t}_mean_wide", quant_bag(t, 40, 12, 1, [4, 0, 6, 1]))
        write("quant_bag", f"t{t}_psw_fixed", quant_bag(t, 33, 10, 0, [0, 0, 0], weighted=1, fixed_size=4))
        write("quant_bag", f"t{t}_max_refused", quant_bag(t, 7, 5, 2, [2, 2]))
        write("quant_bag", f"t{t}_bad_offsets", quant_bag(t, 5, 8, 1, [3, 4, (0, 1), 2]))
        write("quant_bag", f"t{t}_bad_index", quant_bag(t, 16, 6, 0, [2, 7, 3], bad_at=8, bad=["minus1", "rows"][t]))
        write("quant_bag", f"t{t}_specials", quant_bag(t, 17, 5, 0, [6, 6], weighted=1, specials=1))
    for k in range(4):
        write("quant_bag", f"random_{k}", bytes(rnd.randrange(256) for _ in range(rnd.randrange(16, 400))))
    for t in (2, 3):
        write("quant_bag", f"t{t}_sum", quant_bag(t, 10, 17, 0, [3, 0, 1, 8, 2]))
        write("quant_bag", f"t{t}_mean_wide", quant_bag(t, 80, 12, 1, [4, 0, 6, 1]))
        write("quant_bag", f"t{t}_psw_fixed", quant_bag(t, 34, 10, 0, [0, 0, 0], weighted=1, fixed_size=4))
        write("quant_bag", f"t{t}_odd_dim_refused", quant_bag(t, 7, 5, 0, [2, 2]))
        write("quant_bag", f"t{t}_bad_index", quant_bag(t, 16, 6, 0, [2, 7, 3], bad_at=8, bad=["minus1", "rows"][t - 2]))
        write("quant_bag", f"t{t}_specials", quant_bag(t, 18, 5, 0, [6, 6], weighted=1, specials=1))


if __name__ == "__main__":
    main()
