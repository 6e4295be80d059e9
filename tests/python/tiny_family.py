#!/usr/bin/env python3
"""Writes a tiny random-weight GGUF of one model family with llama.cpp's own Python `gguf` writer, so that tests
can check that tinyedge runs every family as llama.cpp does on files tinyedge did not write.

    python tiny_family.py OUT.gguf --family llama|llama3|qwen2|qwen3|gemma3 [--type f32|f16|q8_0|q4_0]
                          [--seed S] [--vocab-size N]

What each family's file holds, with the keys and tensors llama.cpp's converter writes for it:
- llama: Llama 2 (own output head); with --vocab-size 128256 or 256000, the shape class of EuroLLM-1.7B and
  SalamandraTA-2B (SentencePiece vocabularies of 128k and 256k).
- llama3: rope_freqs.weight (per-dimension RoPE factors, random in [1, 8]), output tied to the embedding.
- qwen2: Q/K/V biases, tied output.
- qwen3: per-head Q/K norms, heads of 32 from a stream of 64 (attention.key_length), own output head.
- gemma3: Q/K norms, post-norms, GELU, embeddings scaled by sqrt(dim); a window of 5 positions on the local
  layers, every third layer global (attention.sliding_window_pattern = 3), local RoPE base 20000
  (rope.freq_base_swa), linear RoPE scaling x2 on the global layers; tied output.

The tokenizer metadata come from one function, add_tokenizer(): for now every family gets a SentencePiece ("llama")
vocabulary (tiny_llama.py's, grown with generated pieces to --vocab-size), which llama.cpp accepts with every
architecture. The families' real tokenizers (tests/python/hf_tokenizer.py of the tokenizer work) are to take its
place there.
"""
import argparse
import itertools
import string
import sys

import numpy as np
import gguf

from tiny_llama import TYPES, vocabulary

SPACE = "\u2581"

# dim, layers, heads, kv heads, head dim, ffn, context; per family below
FAMILIES = {
    "llama": dict(arch="llama", dim=64, layers=2, heads=4, kv_heads=2, head_dim=16, ffn=160, output=True),
    "llama3": dict(arch="llama", dim=64, layers=2, heads=4, kv_heads=2, head_dim=16, ffn=160, output=False,
                   rope_freqs=True, rope_base=500000.0),
    "qwen2": dict(arch="qwen2", dim=64, layers=2, heads=4, kv_heads=2, head_dim=16, ffn=160, output=False,
                  qkv_bias=True, rope_base=1000000.0, eps=1e-6),
    "qwen3": dict(arch="qwen3", dim=64, layers=2, heads=4, kv_heads=2, head_dim=32, ffn=160, output=True,
                  qk_norm=True, rope_base=1000000.0, eps=1e-6),
    "gemma3": dict(arch="gemma3", dim=64, layers=4, heads=4, kv_heads=1, head_dim=32, ffn=192, output=False,
                   qk_norm=True, post_norms=True, rope_base=1000000.0, eps=1e-6, window=5, pattern=3,
                   local_base=20000.0, rope_scale=2.0),
}
CONTEXT = 256


def add_tokenizer(writer, family, vocab_size):
    """The tokenizer.* metadata of the family's model, for a vocabulary of vocab_size tokens. For now a SentencePiece
    vocabulary for every family: tiny_llama.py's (specials, byte tokens, ASCII, a few pieces), then generated pieces
    (lower-case runs of 2 to 4 letters, with and without the word-start mark, each of whose prefixes is a piece too,
    ordered by length so that SentencePiece merges them) up to vocab_size."""
    tokens, types, scores = vocabulary()
    if vocab_size > len(tokens):
        known = set(tokens)
        generated = (prefix + "".join(letters)
                     for length in (2, 3, 4)
                     for letters in itertools.product(string.ascii_lowercase, repeat=length)
                     for prefix in (SPACE, ""))
        for piece in generated:
            if len(tokens) == vocab_size:
                break
            if piece not in known:
                tokens.append(piece)
                types.append(gguf.TokenType.NORMAL)
                scores.append(-2000.0 - len(tokens))
        if len(tokens) < vocab_size:
            raise ValueError(f"cannot generate {vocab_size} pieces")
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    return len(tokens)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--family", choices=sorted(FAMILIES), required=True)
    parser.add_argument("--type", choices=sorted(TYPES), default="f32")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--vocab-size", type=int, default=0, help="grow the vocabulary to this many tokens")
    args = parser.parse_args()

    f = FAMILIES[args.family]
    dim, heads, kv_heads, head_dim, ffn = f["dim"], f["heads"], f["kv_heads"], f["head_dim"], f["ffn"]
    q_dim, kv_dim = heads * head_dim, kv_heads * head_dim
    weight_type, file_type = TYPES[args.type]
    rng = np.random.default_rng(args.seed)

    writer = gguf.GGUFWriter(args.out, f["arch"])
    writer.add_name(f"tiny-{args.family}-pywriter")
    writer.add_file_type(file_type)
    writer.add_context_length(CONTEXT)
    writer.add_embedding_length(dim)
    writer.add_block_count(f["layers"])
    writer.add_feed_forward_length(ffn)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_layer_norm_rms_eps(f.get("eps", 1e-5))
    writer.add_rope_freq_base(f.get("rope_base", 10000.0))
    if head_dim * heads != dim or f["arch"] == "gemma3":
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
    if f["arch"] == "llama":
        writer.add_rope_dimension_count(head_dim)
    if "window" in f:
        writer.add_sliding_window(f["window"])
        writer.add_sliding_window_pattern(f["pattern"])
        writer.add_rope_freq_base_swa(f["local_base"])
    if "rope_scale" in f:
        writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        writer.add_rope_scaling_factor(f["rope_scale"])
    vocab = add_tokenizer(writer, args.family, args.vocab_size)

    def weight(name, w):
        # numpy shape (rows, cols) is GGUF ne = [cols, rows]: a map from a cols-vector to a rows-vector.
        # Quantized data comes back as bytes per row; raw_dtype tells the writer the element type.
        quantized = weight_type not in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16)
        writer.add_tensor(name, gguf.quants.quantize(w, weight_type), raw_dtype=weight_type if quantized else None)

    def matrix(name, rows, cols):
        weight(name, (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(np.float32))

    def vector(name, values):
        writer.add_tensor(name, values.astype(np.float32))

    def norm(name, size):
        vector(name, 1.0 + 0.1 * rng.standard_normal(size))

    # An embedding that is also the output head is smaller, or each token's own row would dominate its logits (and
    # greedy decoding would repeat the last token); an embedding of its own keeps unit rows like tiny_llama.py's.
    embedding_scale = 1.0 if f["output"] else 0.25
    weight("token_embd.weight", (embedding_scale * rng.standard_normal((vocab, dim))).astype(np.float32))
    if f.get("rope_freqs"):
        vector("rope_freqs.weight", rng.uniform(1.0, 8.0, head_dim // 2))
    for layer in range(f["layers"]):
        p = f"blk.{layer}."
        norm(p + "attn_norm.weight", dim)
        matrix(p + "attn_q.weight", q_dim, dim)
        matrix(p + "attn_k.weight", kv_dim, dim)
        matrix(p + "attn_v.weight", kv_dim, dim)
        if f.get("qkv_bias"):
            vector(p + "attn_q.bias", 0.5 * rng.standard_normal(q_dim))
            vector(p + "attn_k.bias", 0.5 * rng.standard_normal(kv_dim))
            vector(p + "attn_v.bias", 0.5 * rng.standard_normal(kv_dim))
        if f.get("qk_norm"):
            norm(p + "attn_q_norm.weight", head_dim)
            norm(p + "attn_k_norm.weight", head_dim)
        matrix(p + "attn_output.weight", dim, q_dim)
        if f.get("post_norms"):
            norm(p + "post_attention_norm.weight", dim)
        norm(p + "ffn_norm.weight", dim)
        matrix(p + "ffn_gate.weight", ffn, dim)
        matrix(p + "ffn_up.weight", ffn, dim)
        matrix(p + "ffn_down.weight", dim, ffn)
        if f.get("post_norms"):
            norm(p + "post_ffw_norm.weight", dim)
    norm("output_norm.weight", dim)
    if f["output"]:
        # A larger output scale than 1/sqrt(dim) gives logits a spread of a few units, like a real model.
        weight("output.weight", (4.0 * rng.standard_normal((vocab, dim)) / np.sqrt(dim)).astype(np.float32))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    print(f"{args.out}: {f['arch']} ({args.family}), vocab {vocab}, dim {dim}, {f['layers']} layers, {args.type}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
