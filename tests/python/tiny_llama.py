#!/usr/bin/env python3
"""Writes a tiny Llama-architecture GGUF with random weights using the reference `gguf` Python writer.

The file is written independently of tinyedge's own GGUF writer, so tests can check that tinyedge reads
a file from the ecosystem's writer and computes the same logits as llama.cpp on it.

Vocabulary: a byte-level SentencePiece ("llama") vocabulary: <unk>, <s>, </s>, the 256 byte tokens
<0x00>..<0xFF>, the printable ASCII characters (space written as U+2581) and a few multi-character
pieces whose scores order their merges. Text outside it falls back to byte tokens.

    python tiny_llama.py OUT.gguf [--type f32|f16|q8_0|q4_0] [--seed S]
"""
import argparse
import sys

import numpy as np
import gguf

SPACE = "\u2581"
# Multi-character pieces; an earlier piece gets a higher score, so it is merged first.
PIECES = [SPACE + "t", "he", SPACE + "the", SPACE + "a", "in", "er", "on", SPACE + "Hello", SPACE + "world",
          "ll", "lo", SPACE + "H", "el", "or", "ld", SPACE + "w", "at", "is", SPACE + "is", "an", "re", "en",
          SPACE + "s", SPACE + "o", "ar", "ing", SPACE + SPACE, SPACE + SPACE + SPACE + SPACE, "orld"]

DIM, LAYERS, HEADS, KV_HEADS, FFN, CONTEXT = 64, 2, 4, 2, 160, 256

TYPES = {
    "f32": (gguf.GGMLQuantizationType.F32, gguf.LlamaFileType.ALL_F32),
    "f16": (gguf.GGMLQuantizationType.F16, gguf.LlamaFileType.MOSTLY_F16),
    "q8_0": (gguf.GGMLQuantizationType.Q8_0, gguf.LlamaFileType.MOSTLY_Q8_0),
    "q4_0": (gguf.GGMLQuantizationType.Q4_0, gguf.LlamaFileType.MOSTLY_Q4_0),
}


def vocabulary():
    tokens = ["<unk>", "<s>", "</s>"]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    scores = [0.0, 0.0, 0.0]
    for b in range(256):
        tokens.append(f"<0x{b:02X}>")
        types.append(gguf.TokenType.BYTE)
        scores.append(0.0)
    singles = [SPACE] + [chr(c) for c in range(0x21, 0x7F)]
    for i, piece in enumerate(singles):
        tokens.append(piece)
        types.append(gguf.TokenType.NORMAL)
        scores.append(-1000.0 - i)
    for i, piece in enumerate(PIECES):
        tokens.append(piece)
        types.append(gguf.TokenType.NORMAL)
        scores.append(-float(i))
    return tokens, types, scores


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--type", choices=sorted(TYPES), default="f32")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    tokens, token_types, scores = vocabulary()
    vocab = len(tokens)
    head_dim = DIM // HEADS
    weight_type, file_type = TYPES[args.type]
    rng = np.random.default_rng(args.seed)

    writer = gguf.GGUFWriter(args.out, "llama")
    writer.add_name("tiny-llama-pywriter")
    writer.add_file_type(file_type)
    writer.add_context_length(CONTEXT)
    writer.add_embedding_length(DIM)
    writer.add_block_count(LAYERS)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(10000.0)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(token_types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)

    def weight(name, w):
        # numpy shape (rows, cols) is GGUF ne = [cols, rows]: a map from a cols-vector to a rows-vector.
        # Quantized data comes back as bytes per row; raw_dtype tells the writer the element type.
        quantized = weight_type not in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16)
        writer.add_tensor(name, gguf.quants.quantize(w, weight_type), raw_dtype=weight_type if quantized else None)

    def matrix(name, rows, cols):
        # Scale 1/sqrt(cols) keeps activations near unit size.
        weight(name, (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(np.float32))

    def norm(name, size):
        writer.add_tensor(name, (1.0 + 0.1 * rng.standard_normal(size)).astype(np.float32))

    # The embedding stays large (unit-variance rows) like real models, which RMSNorm rescales anyway.
    weight("token_embd.weight", rng.standard_normal((vocab, DIM)).astype(np.float32))
    for layer in range(LAYERS):
        p = f"blk.{layer}."
        norm(p + "attn_norm.weight", DIM)
        matrix(p + "attn_q.weight", HEADS * head_dim, DIM)
        matrix(p + "attn_k.weight", KV_HEADS * head_dim, DIM)
        matrix(p + "attn_v.weight", KV_HEADS * head_dim, DIM)
        matrix(p + "attn_output.weight", DIM, HEADS * head_dim)
        norm(p + "ffn_norm.weight", DIM)
        matrix(p + "ffn_gate.weight", FFN, DIM)
        matrix(p + "ffn_up.weight", FFN, DIM)
        matrix(p + "ffn_down.weight", DIM, FFN)
    norm("output_norm.weight", DIM)
    # A larger output scale than 1/sqrt(dim) gives logits a spread of a few units, like a real model.
    weight("output.weight", (4.0 * rng.standard_normal((vocab, DIM)) / np.sqrt(DIM)).astype(np.float32))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    print(f"{args.out}: llama, vocab {vocab}, dim {DIM}, {LAYERS} layers, {args.type}", file=sys.stderr)


if __name__ == "__main__":
    main()
