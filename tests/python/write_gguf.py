#!/usr/bin/env python3
"""Writes a small llama-architecture GGUF with llama.cpp's own Python writer (the `gguf` package, 0.19.0)
and a JSON manifest of what it wrote, so that tinyedge's reader can be checked against a foreign writer.

    write_gguf.py OUT.gguf MANIFEST.json [--seed N]

The model is a 1-layer Llama with a Llama-2-style SentencePiece vocabulary (specials, the 256 byte tokens,
a few pieces) and random weights in F32, F16, Q8_0 and Q4_0 (quantized by gguf-py's reference quantizers).
Besides the llama.* and tokenizer.* keys it carries a test.* key of every scalar type and an array of
every element type. The manifest lists every key/value pair the writer wrote (type, element type, value)
and every tensor (ggml type, shape in GGUF order with ne[0] first, byte size, sha256 of its bytes).
"""
import argparse
import hashlib
import json

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q, GGUFValueType as V

VOCAB_PIECES = ["▁", "▁t", "he", "▁the", "▁a", "in", "er", "▁Hello", "▁world", "!", "▁¿", "▁Dónde", "▁está"]
DIM, FFN, HEADS, KV_HEADS, CONTEXT = 64, 128, 4, 2, 256


def vocabulary():
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + VOCAB_PIECES
    scores = [0.0, 0.0, 0.0] + [0.0] * 256 + [-float(i + 1) for i in range(len(VOCAB_PIECES))]
    types = [2, 3, 3] + [6] * 256 + [1] * len(VOCAB_PIECES)  # unknown, control, byte, normal
    return tokens, scores, types


def tensors(rng, vocab_size):
    """(name, float32 weights in numpy's row-major shape, ggml type) for a 1-layer Llama."""
    kv_dim = DIM // HEADS * KV_HEADS

    def w(rows, cols):
        return rng.standard_normal((rows, cols), dtype=np.float32) * 0.05

    return [
        ("token_embd.weight", w(vocab_size, DIM), Q.Q8_0),
        ("blk.0.attn_norm.weight", 1 + 0.1 * rng.standard_normal(DIM, dtype=np.float32), Q.F32),
        ("blk.0.attn_q.weight", w(DIM, DIM), Q.Q4_0),
        ("blk.0.attn_k.weight", w(kv_dim, DIM), Q.F16),
        ("blk.0.attn_v.weight", w(kv_dim, DIM), Q.Q8_0),
        ("blk.0.attn_output.weight", w(DIM, DIM), Q.Q4_0),
        ("blk.0.ffn_norm.weight", 1 + 0.1 * rng.standard_normal(DIM, dtype=np.float32), Q.F32),
        ("blk.0.ffn_gate.weight", w(FFN, DIM), Q.F16),
        ("blk.0.ffn_up.weight", w(FFN, DIM), Q.Q8_0),
        ("blk.0.ffn_down.weight", w(DIM, FFN), Q.Q4_0),
        ("output_norm.weight", 1 + 0.1 * rng.standard_normal(DIM, dtype=np.float32), Q.F32),
        ("output.weight", w(vocab_size, DIM), Q.F32),
    ]


def add_metadata(writer, tokens, scores, types):
    writer.add_name("tinyedge interop")
    writer.add_context_length(CONTEXT)
    writer.add_embedding_length(DIM)
    writer.add_block_count(1)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_rope_dimension_count(DIM // HEADS)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_0)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_chat_template("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}</s>\n{% endfor %}")
    # one key of every scalar type, and an array of every element type
    writer.add_uint8("test.u8", 250)
    writer.add_int8("test.i8", -128)
    writer.add_uint16("test.u16", 65535)
    writer.add_int16("test.i16", -32768)
    writer.add_uint32("test.u32", 4294967295)
    writer.add_int32("test.i32", -2147483648)
    writer.add_float32("test.f32", 0.1)
    writer.add_bool("test.bool", False)
    writer.add_string("test.string", "héllo, 世界 🦙")
    writer.add_uint64("test.u64", 2**64 - 1)
    writer.add_int64("test.i64", -(2**63))
    writer.add_float64("test.f64", 0.1)
    arrays = {
        V.UINT8: [0, 1, 255], V.INT8: [-128, 127], V.UINT16: [0, 65535], V.INT16: [-32768, 32767],
        V.UINT32: [0, 4294967295], V.INT32: [-2147483648, 2147483647], V.FLOAT32: [0.1, -2.5, 1e-30],
        V.BOOL: [True, False, True], V.STRING: ["", "a", "▁the", "🦙"], V.UINT64: [0, 2**64 - 1],
        V.INT64: [-(2**63), 2**63 - 1], V.FLOAT64: [0.1, -1e300],
    }
    for element_type, values in arrays.items():
        writer.add_key_value(f"test.array.{element_type.name.lower()}", values, V.ARRAY, sub_type=element_type)


def as_written(value, vtype):
    """The value as the file holds it: float32 values rounded to float32, then widened exactly for JSON."""
    if vtype == V.FLOAT32:
        return float(np.float32(value))
    return value


def manifest_entry(kv):
    if kv.type != V.ARRAY:
        return {"type": kv.type.name, "value": as_written(kv.value, kv.type)}
    element_type = kv.sub_type if kv.sub_type is not None else V.get_type(kv.value[0])
    return {"type": "ARRAY", "element_type": element_type.name,
            "value": [as_written(v, element_type) for v in kv.value]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("manifest")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    tokens, scores, types = vocabulary()
    writer = gguf.GGUFWriter(args.out, "llama")
    add_metadata(writer, tokens, scores, types)

    manifest_tensors = {}
    for name, weights, qtype in tensors(rng, len(tokens)):
        data = gguf.quants.quantize(weights, qtype)
        writer.add_tensor(name, data, raw_dtype=qtype if qtype not in (Q.F32, Q.F16) else None)
        manifest_tensors[name] = {
            "type": qtype.name,
            "shape": list(reversed(weights.shape)),  # GGUF order: ne[0] is the contiguous axis
            "nbytes": data.nbytes,
            "sha256": hashlib.sha256(data.tobytes()).hexdigest(),
        }
    manifest = {
        "gguf_py_version": "0.19.0",
        "alignment": writer.data_alignment,
        "metadata": {key: manifest_entry(kv) for key, kv in writer.kv_data[0].items()},
        "tensors": manifest_tensors,
    }

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with open(args.manifest, "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
