"""Fuzzing the .t7 reader with mutated real files: bit flips, truncations, hostile values in length fields,
spliced and random bytes. Whatever happens, only T7ReaderException (or a subclass) may escape, and each
file fails (or loads) fast. Fixed seed, bounded time."""
import io
import random
import struct
import time

import pytest

from ember.legacy.serialization import T7ReaderException, load_lua

from _helpers.data import shared_data

SEED = 20170806
BUDGET_S = 4.0      # total wall time for the mutation loop
PER_FILE_S = 0.5    # a single mutant must fail or load within this

SOURCES = [
    ("torchfile_tests", "hello=123.t7"), ("torchfile_tests", "list_table.t7"),
    ("torchfile_tests", "map_table2.t7"), ("torchfile_tests", "doubletensor.t7"),
    ("torchfile_tests", "floattensor.t7"), ("torchfile_tests", "function_upvals.t7"),
    ("torchfile_tests", "recursive_class.t7"), ("torchfile_tests", "recursive_kv_table.t7"),
    ("torchfile_tests", "tds_hash.t7"), ("torchfile_tests", "tds_vec.t7"), ("torchfile_tests", "nngraph_node.t7"),
    ("torchfile_tests", "gmodule_with_linear_identity.t7"),
    ("torch_demos", "road-net_preproc.t7_9a93788"), ("memorynetwork", "output_lua_vocab.t7_7bdf071"),
    ("memorynetwork", "utils_data.t7_8e946c2"),
    ("lua_nn_reference", "Linear.t7"), ("lua_nn_reference", "View.t7"), ("lua_nn_reference", "ConcatTable.t7"),
    ("lua_nn_reference", "Tanh_ascii.t7"), ("lua_nn_reference", "ClassNLLCriterion_ascii.t7"),
]
HOSTILE_INTS = [0, -1, 1, 2, 3, 4, 8, 0x7FFFFFFF, -0x80000000, 0x10000, 1 << 20, -(1 << 20)]
HOSTILE_TEXT = [b"0", b"-1", b"99999999999999999999", b"2147483647", b"-9", b"nan", b"inf", b"1e308", b"3", b"4"]


def _int_offsets(data):
    """Offsets where a small little-endian int starts: type codes, indices and lengths are there."""
    return [i for i in range(0, len(data) - 3) if 0 <= struct.unpack_from("<i", data, i)[0] < 4096] or [0]


def _mutate(rng, data, offsets):
    data = bytearray(data)
    kind = rng.randrange(7)
    if kind == 0:  # flip a few bits
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
    elif kind == 1:  # truncate
        del data[rng.randrange(len(data)):]
    elif kind == 2:  # a hostile value in an int field (binary)
        i = rng.choice(offsets)
        data[i:i + 4] = struct.pack("<i", rng.choice(HOSTILE_INTS))
    elif kind == 3:  # a hostile 8-byte long
        i = rng.choice(offsets)
        data[i:i + 8] = struct.pack("<q", rng.choice([-1, 1 << 62, 1 << 31, -(1 << 40)]))
    elif kind == 4:  # random bytes
        i = rng.randrange(len(data))
        data[i:i + rng.randint(1, 16)] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    elif kind == 5:  # a hostile number in an ASCII file, or a duplicated chunk in a binary one
        lines = bytes(data).split(b"\n")
        if len(lines) > 3 and data[:1].isdigit():
            lines[rng.randrange(len(lines))] = rng.choice(HOSTILE_TEXT)
            data = bytearray(b"\n".join(lines))
        else:
            i, j = sorted(rng.randrange(len(data)) for _ in range(2))
            data[j:j] = data[i:j][:256]
    else:  # drop a chunk
        i = rng.randrange(len(data))
        del data[i:i + rng.randint(1, 32)]
    return bytes(data)


def test_fuzz_only_t7_errors_escape():
    rng = random.Random(SEED)
    corpus = []
    for parts in SOURCES:
        with open(shared_data("t7", *parts), "rb") as f:
            data = f.read()
        corpus.append((parts[-1], data, _int_offsets(data)))
    start = time.perf_counter()
    runs = failures = 0
    while time.perf_counter() - start < BUDGET_S:
        name, data, offsets = rng.choice(corpus)
        mutant = _mutate(rng, data, offsets)
        for _ in range(rng.randint(0, 2)):  # sometimes stack mutations
            mutant = _mutate(rng, mutant, offsets) if mutant else mutant
        kwargs = {"unknown_classes": rng.random() < 0.7, "list_heuristic": rng.random() < 0.8,
                  "int_heuristic": rng.random() < 0.8}
        t0 = time.perf_counter()
        try:
            load_lua(io.BytesIO(mutant), **kwargs)
        except T7ReaderException:
            failures += 1
        except Exception as e:  # anything else is a reader bug: report the reproducer
            pytest.fail("{} escaped for a mutant of {} ({} bytes, kwargs {}): {!r}\nmutant={!r}".format(
                type(e).__name__, name, len(mutant), kwargs, e, mutant[:400]))
        dt = time.perf_counter() - t0
        assert dt < PER_FILE_S, "a mutant of {} took {:.2f}s".format(name, dt)
        runs += 1
    assert runs > 200 and 0 < failures < runs  # the loop ran, and mutants both fail and (sometimes) load


@pytest.mark.parametrize("n", [0, 1, 3, 4, 5, 12])
def test_random_bytes(n):
    rng = random.Random(SEED + n)
    for _ in range(300):
        data = bytes(rng.randrange(256) for _ in range(n)) + bytes(rng.randrange(9) for _ in range(rng.randrange(40)))
        try:
            load_lua(io.BytesIO(data), unknown_classes=True)
        except T7ReaderException:
            pass
