#!/usr/bin/env python3
"""Replaces one script's section of bench/RESULTS.md, which holds other measurements too.

    bench/write-section.py SCRIPT SECTION_FILE [RESULTS_FILE]

The section lies between <!-- SCRIPT: begin --> and <!-- SCRIPT: end -->; a file without those markers gets them
at its end, and a missing file is started.
"""
import os
import sys

script, section_file = sys.argv[1], sys.argv[2]
path = sys.argv[3] if len(sys.argv) > 3 else "bench/RESULTS.md"
begin, end = f"<!-- {script}: begin -->", f"<!-- {script}: end -->"
section = open(section_file, encoding="utf-8").read()
text = open(path, encoding="utf-8").read() if os.path.exists(path) else "# Benchmark results\n"
if begin not in text or end not in text:
    text = text.rstrip("\n") + "\n\n" + begin + "\n" + end + "\n"
at, to = text.index(begin), text.index(end)
with open(path, "w", encoding="utf-8") as out:
    out.write(text[:at] + begin + "\n" + section + end + text[to + len(end):])
