#!/usr/bin/env python3
"""Reads a GGUF with llama.cpp's own Python reader (the `gguf` package, 0.19.0) and prints what it found as
one JSON document, in the manifest format of write_gguf.py, so that tinyedge's writer can be checked
against a foreign reader.

    read_gguf.py FILE.gguf
"""
import hashlib
import json
import sys

import gguf
from gguf import GGUFValueType as V


def main():
    reader = gguf.GGUFReader(sys.argv[1])
    metadata = {}
    for name, field in reader.fields.items():
        if name.startswith("GGUF."):  # the reader's own entries for the header fields
            continue
        if field.types[0] == V.ARRAY:
            metadata[name] = {"type": "ARRAY", "element_type": field.types[-1].name, "value": list(field.contents())}
        else:
            metadata[name] = {"type": field.types[0].name, "value": field.contents()}
    tensors = {
        t.name: {
            "type": t.tensor_type.name,
            "shape": [int(d) for d in t.shape],  # GGUF order: ne[0] first
            "nbytes": int(t.n_bytes),
            "data_offset": int(t.data_offset),
            "sha256": hashlib.sha256(t.data.tobytes()).hexdigest(),
        }
        for t in reader.tensors
    }
    document = {
        "version": int(reader.fields["GGUF.version"].contents()),
        "alignment": int(reader.alignment),
        "metadata": metadata,
        "tensors": tensors,
    }
    json.dump(document, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
