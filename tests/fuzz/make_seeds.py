#!/usr/bin/env python3
"""Writes the seed corpora of the libFuzzer harnesses (tests/fuzz/<name>/corpus/).

Small valid inputs of every kind each reader accepts, plus a few near misses, so
the fuzzers start from the interesting paths. Run from anywhere:
    python3 tests/fuzz/make_seeds.py
Deterministic: the same files every run (commit them).
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, seed, data):
    d = os.path.join(HERE, name, "corpus")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, seed), "wb") as f:
        f.write(data)


# --- PNG ----------------------------------------------------------------------

def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png(width, height, depth, color, rows, interlace=0, extra=b""):
    """rows: the filtered scanlines (each starting with its filter byte)."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, interlace)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(rows, 9))
            + chunk(b"IEND", b""))


def gray8(w, h):
    return b"".join(b"\x00" + bytes((x * 37 + y * 11) % 256 for x in range(w)) for y in range(h))


def bits1(w, h):
    stride = (w + 7) // 8
    return b"".join(b"\x00" + bytes((0xFF if (y % 4) else 0x0F) for _ in range(stride)) for y in range(h))


def rgba8(w, h):
    return b"".join(b"\x00" + bytes(v for x in range(w) for v in (x * 9 % 256, y * 5 % 256, 77, 255)) for y in range(h))


def omniglot_like(side=105):
    """A 1-bit drawing in the Omniglot format: white paper, one black bar."""
    stride = (side + 7) // 8
    rows = []
    for y in range(side):
        line = bytearray(b"\xff" * stride)
        if y == 17:
            line = bytearray(stride)
        rows.append(b"\x00" + bytes(line))
    return png(side, side, 1, 0, b"".join(rows))


PNGS = {
    "gray8_4x3": png(4, 3, 8, 0, gray8(4, 3)),
    "gray1_20x20": png(20, 20, 1, 0, bits1(20, 20)),
    "gray1_9x9": png(9, 9, 1, 0, bits1(9, 9)),
    "rgba8_3x2": png(3, 2, 8, 6, rgba8(3, 2)),
    "palette_2x2": png(2, 2, 8, 3, b"\x00\x00\x01\x00\x01\x00",
                       extra=chunk(b"PLTE", b"\x00\x00\x00\xff\xff\xff")),
    "gray16_2x2": png(2, 2, 16, 0, b"\x00\x00\x01\xff\xff\x00\x00\x12\x34\x56\x78"),
    "omniglot_105": omniglot_like(),
    "liar_header": png(16384, 16384, 8, 0, gray8(1, 1)),
    "not_png": b"GIF89a\x01\x00\x01\x00",
}
for name, data in PNGS.items():
    write("png", name, data)

# The Omniglot harness: expected_size − 1, image_size − 1, flags, then the PNG.
write("omniglot", "omniglot_105_to_28", bytes([104, 27, 0]) + PNGS["omniglot_105"])
write("omniglot", "omniglot_105_area_rot", bytes([104, 27, 3]) + PNGS["omniglot_105"])
write("omniglot", "gray8_4x3", bytes([3, 7, 1]) + PNGS["gray8_4x3"])
write("omniglot", "rgba_3x2_wrong_size", bytes([2, 2, 2]) + PNGS["rgba8_3x2"])
write("omniglot", "gray1_20", bytes([19, 4, 2]) + PNGS["gray1_20x20"])

# --- checkpoints ---------------------------------------------------------------

def ckpt_str(s):
    return struct.pack("<I", len(s)) + s


def tensor(name, dtype, dims, data):
    return ckpt_str(name) + bytes([dtype, len(dims)]) + b"".join(struct.pack("<q", d) for d in dims) + data


def checkpoint(payload, version=1):
    return (b"MGCKPT\x00\x00" + struct.pack("<IIQ", version, zlib.crc32(payload) & 0xFFFFFFFF, len(payload)) + payload)


def payload(step, meta, tensors, kind=b"", scalars=(), opt_tensors=()):
    out = struct.pack("<q", step) + struct.pack("<I", len(meta))
    for k, v in meta:
        out += ckpt_str(k) + ckpt_str(v)
    out += struct.pack("<I", len(tensors)) + b"".join(tensors) + ckpt_str(kind)
    out += struct.pack("<I", len(scalars)) + b"".join(ckpt_str(k) + struct.pack("<d", v) for k, v in scalars)
    out += struct.pack("<I", len(opt_tensors)) + b"".join(opt_tensors)
    return out


linear = [tensor(b"0.weight", 0, [2, 2], struct.pack("<4f", 0.5, -1.0, 2.0, 0.25)),
          tensor(b"0.bias", 0, [2], struct.pack("<2f", 0.0, 1.0))]
sgd_state = [tensor(b"momentum.0", 0, [2, 2], bytes(16)), tensor(b"momentum.1", 0, [2], bytes(8))]
write("checkpoint", "linear_sgd", checkpoint(payload(7, [(b"config.algo", b"maml")], linear, b"sgd",
                                                     [(b"lr", 0.1), (b"step.0", 3.0)], sgd_state)))
write("checkpoint", "linear_only", checkpoint(payload(0, [], linear)))
write("checkpoint", "dtypes", checkpoint(payload(1, [(b"k", b"v")], [
    tensor(b"f64", 1, [3], struct.pack("<3d", 1.0, 2.0, 3.0)),
    tensor(b"i64", 2, [1, 2], struct.pack("<2q", -1, 5)),
    tensor(b"empty", 0, [0, 4], b""),
    tensor(b"scalar", 0, [], struct.pack("<f", 1.5))])))
write("checkpoint", "empty", checkpoint(payload(0, [], [])))
write("checkpoint", "wrong_version", checkpoint(payload(0, [], []), version=2))
write("checkpoint", "header_only", b"MGCKPT\x00\x00" + struct.pack("<IIQ", 1, 0, 1 << 60))

# --- episodes (the harness reads little-endian fields; see fuzz_episodes.cpp) ----

def episodes(classes, examples, dims, n, k, q, seed, count, index):
    return (bytes([0]) + struct.pack("<Hi", classes, examples) + bytes([len(dims)])
            + b"".join(struct.pack("<q", d) for d in dims) + struct.pack("<iiiQIQ", n, k, q, seed, count, index)
            + struct.pack("<Q", 3))


def sinusoid(k, q, amin, amax, xmin, xmax, seed, count):
    return bytes([1]) + struct.pack("<iiddddQIQ", k, q, amin, amax, xmin, xmax, seed, count, 5)


write("episodes", "omniglot_5way_1shot", episodes(20, 20, [1, 28, 28], 5, 1, 15, 1, 4, 9))
write("episodes", "tiny_2way", episodes(3, 4, [2], 2, 1, 1, 7, 2, 0))
write("episodes", "huge_shots", episodes(10, 2**31 - 1, [1, 28, 28], 5, 2**30, 2**30, 0, 1, 0))
write("episodes", "sinusoid_maml", sinusoid(10, 10, 0.1, 5.0, -5.0, 5.0, 0, 3))
write("episodes", "sinusoid_huge", sinusoid(2**31 - 1, 2**31 - 1, 0.1, 5.0, -5.0, 5.0, 0, 3))

# --- splits and the TrainConfig metadata ----------------------------------------

write("splits", "official", b"images_background/Greek/character01\nimages_evaluation/Atlantean/character02\n")
write("splits", "neither", b"images_background/Greek/character01\nsomewhere/else\n")
write("splits", "duplicate", b"images_background/A/character01\nimages_background/A/character01")

# --- labelled-text CSV ------------------------------------------------------------

write("text_csv", "quoted", b'id,label,text\r\n1,greet,hello there\r\n2,"buy, sell","a ""b"" c"\r\n'
                            b'3,greet,"two\nlines"\r\n4,"buy, sell",last')
write("text_csv", "utf8_bom", b"\xef\xbb\xbftext,label\ncaf\xc3\xa9,a\n\nna\xc3\xafve,b\nx,a\ny,b\n")
write("text_csv", "unterminated", b'text,label\nok,a\n"never closed,b\n')
write("text_csv", "bad_utf8", b"text,label\ncaf\xe9,a\n")
write("text_csv", "wrong_count", b"text,label\na,b,c\n")

CONFIG = [("dataset", "sinusoid"), ("split", "vinyals"), ("algo", "maml"), ("ways", "1"), ("shots", "10"),
          ("queries", "10"), ("inner_steps", "1"), ("eval_inner_steps", "10"), ("meta_batch", "25"),
          ("inner_lr", "0.01"), ("meta_lr", "0.001"), ("iterations", "70000"), ("seed", "0"),
          ("learn_inner_lr", "false"), ("strided", "false"), ("baseline", "true"), ("eval_tasks", "600"),
          ("inner_optimizer", "sgd"), ("train_shots", "10"), ("inner_batch", "0"), ("reset_inner_adam", "false")]


def config(**changes):
    known = dict(CONFIG)
    extra = "".join(f"config.{k}={v}\n" for k, v in changes.items() if k not in known)  # optional fields
    return ("".join(f"config.{k}={changes.get(k, v)}\n" for k, v in CONFIG) + extra).encode()


write("train_config", "sinusoid_maml", config())
write("train_config", "omniglot_reptile", config(dataset="omniglot", algo="reptile", ways="5", shots="1",
                                                 queries="5", inner_optimizer="adam", train_shots="10",
                                                 inner_batch="10", meta_lr="1"))
write("train_config", "omniglot_protonet_60way", config(dataset="omniglot", algo="protonet", ways="5", shots="1",
                                                        queries="5", train_ways="60", meta_batch="32"))
write("train_config", "bad_number", config(shots="1e99"))
write("train_config", "missing_fields", b"config.dataset=omniglot\nconfig.algo=fomaml\n")
