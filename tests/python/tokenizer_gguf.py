#!/usr/bin/env python3
"""Writes a GGUF that holds a real tokenizer and no tensors, for the tokenization tests: llama.cpp loads such
a file with vocab_only and tokenizes with it, and tinyedge reads the same tokenizer.* metadata.

    python tokenizer_gguf.py OUT.gguf --family qwen3|llama3|gemma3|spm-262k [--pre NAME]

--pre writes another tokenizer.ggml.pre over a byte-level vocabulary, so that the pre-tokenizers no pinned model
uses (gpt-2, smollm) are tested on a real vocabulary too. The llama.* hyper-parameters are the few that llama.cpp reads before the vocabulary; no weights follow them.
"""
import argparse

import gguf

from hf_tokenizer import FAMILIES, add_tokenizer


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--family", choices=sorted(FAMILIES), required=True)
    parser.add_argument("--pre")
    args = parser.parse_args()
    if args.pre and FAMILIES[args.family]["model"] != "gpt2":
        parser.error(f"--pre needs a byte-level BPE family, not {args.family}")

    writer = gguf.GGUFWriter(args.out, "llama")
    writer.add_name(f"tokenizer-{args.family}")
    writer.add_context_length(256)
    writer.add_embedding_length(64)
    writer.add_block_count(1)
    writer.add_feed_forward_length(128)
    writer.add_head_count(4)
    writer.add_head_count_kv(4)
    writer.add_layer_norm_rms_eps(1e-5)
    add_tokenizer(writer, args.family, pre=args.pre)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main()
