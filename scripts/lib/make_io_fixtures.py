"""Writes the file-format fixtures with the real producers (see scripts/make-io-fixtures). Values are chosen so that
tests can state them by hand: tables are arange-based multiples of 1/8 (exact in every float type used)."""
import json
import os
import struct
import sys

out = sys.argv[1]


def path(name):
    return os.path.join(out, name)


def table(rows, cols):
    """The hand-checkable table every format carries: value(r, c) = (r * cols + c - 5) / 8."""
    return [[(r * cols + c - 5) / 8 for c in range(cols)] for r in range(rows)]


# ---- safetensors, from the specification: u64 little-endian N, N bytes of JSON (padded with spaces), the bytes ----
def safetensors(file, entries, metadata=None, pad=True, order=None):
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    blobs = []
    offset = 0
    for name, dtype, shape, data in (order or entries):
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    with open(path(file), "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def pack(fmt, values):
    return struct.pack("<%d%s" % (len(values), fmt), *values)


def bf16(values):
    return b"".join(struct.pack("<f", v)[2:4] for v in values)


flat = [v for row in table(4, 3) for v in row]
safetensors("table.safetensors", [
    ("embedding.weight", "F32", [4, 3], pack("f", flat)),
    ("f64", "F64", [2, 2], pack("d", [0.125, -0.5, 1e300, 2.0 ** -1074])),
    ("f16", "F16", [6], pack("e", [0.0, 1.0, -2.0, 0.5, 65504.0, 2.0 ** -24])),
    ("bf16", "BF16", [3], bf16([1.0, -2.5, 3.140625])),
    ("i32", "I32", [3], pack("i", [-1, 0, 2147483647])),
    ("i64", "I64", [2], pack("q", [-9223372036854775808, 42])),
    ("empty", "F32", [0, 3], b""),
], metadata={"format": "pt", "note": "built from the safetensors specification"})

# ---- numpy ----
import numpy as np  # noqa: E402

t = np.array(table(4, 3))
np.save(path("table_f4_le.npy"), t.astype("<f4"))
np.save(path("table_f4_be.npy"), t.astype(">f4"))
np.save(path("table_f8_le.npy"), t.astype("<f8"))
np.save(path("table_f8_be.npy"), t.astype(">f8"))
np.save(path("table_f4_fortran.npy"), np.asfortranarray(t.astype("<f4")))
np.save(path("table_i8.npy"), (np.arange(12).reshape(4, 3) - 5).astype("<i8"))
np.savez(path("tables.npz"), weight=t.astype("<f4"), bias=np.arange(3, dtype="<f8"))
np.savez_compressed(path("tables_compressed.npz"), weight=t.astype("<f4"))

# ---- PyTorch 1.13: torch.save of a state_dict (zip), and of a nested dict with shared storage ----
import torch  # noqa: E402

emb = torch.nn.Embedding(4, 3)
with torch.no_grad():
    emb.weight.copy_(torch.tensor(table(4, 3), dtype=torch.float32))
model = torch.nn.Sequential()
model.add_module("embedding", emb)
model.add_module("linear", torch.nn.Linear(3, 2))
with torch.no_grad():
    model.linear.weight.copy_(torch.arange(6, dtype=torch.float32).reshape(2, 3) / 8)
    model.linear.bias.copy_(torch.tensor([0.5, -0.5]))
torch.save(model.state_dict(), path("model.pt"))
big = torch.arange(20, dtype=torch.float64).reshape(4, 5) / 8
torch.save({"table": big, "rows": big[1:3], "column": big[:, 1], "ids": torch.arange(5, dtype=torch.int64),
            "step": 7, "name": "fixture", "half": torch.tensor([1.0, -2.5, 65504.0], dtype=torch.float16),
            "nested": {"list": [1, 2.5, True, None], "tuple": (torch.tensor([3], dtype=torch.int32),)}},
           path("mixed.pt"))



class RunsCode:
    """What weights_only=True exists to refuse: unpickling this calls os.system."""

    def __reduce__(self):
        return (os.system, ("echo this checkpoint ran code",))


torch.save({"weight": torch.zeros(2), "payload": RunsCode()}, path("runs_code.pt"))

# ---- gensim 4: word2vec binary and text, GloVe-style text (no header line) ----
from gensim.models import KeyedVectors  # noqa: E402

words = ["the", "cat", "sat", "café", "日本", "naïve"]
rng = np.random.default_rng(7)
vectors = rng.standard_normal((len(words), 5)).astype(np.float32)
kv = KeyedVectors(vector_size=5)
kv.add_vectors(words, vectors)
kv.save_word2vec_format(path("word2vec.bin"), binary=True)
kv.save_word2vec_format(path("word2vec.txt"), binary=False)
kv.save_word2vec_format(path("glove.txt"), binary=False, write_header=False)
np.save(path("word2vec_vectors.npy"), vectors)
with open(path("word2vec_words.json"), "w", encoding="utf-8") as f:
    json.dump(words, f, ensure_ascii=False)
