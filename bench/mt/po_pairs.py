"""Sentence pairs from gettext catalogs: reads `msgunfmt` output (PO text) on stdin for any number of
catalogs, keeps the English messages that read like sentences, and prints SOURCE<TAB>REFERENCE lines.

Usage: for f in /usr/share/locale/es/LC_MESSAGES/*.mo; do msgunfmt "$f"; echo; done | python3 po_pairs.py LIMIT
The selection is deterministic (ordered by a hash of the English text), so the same machine gives the same set.
"""
import hashlib
import re
import sys

PLACEHOLDER = re.compile(r"[%{}<>$`\\_&|@#\[\]=*]|\.\.\.|https?:")


def unquote(s):
    return (s.replace('\\n', '\n').replace('\\t', '\t').replace('\\"', '"').replace('\\\\', '\\'))


def entries(text):
    """(msgid, msgstr) of each entry; plural entries and ones with a context are skipped."""
    for block in re.split(r"\n\s*\n", text):
        fields, current = {}, None
        for line in block.splitlines():
            m = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) "(.*)"$', line)
            if m:
                current = m.group(1)
                fields[current] = unquote(m.group(2))
            elif line.startswith('"') and current:
                fields[current] += unquote(line[1:-1])
        if "msgid" in fields and "msgstr" in fields and "msgctxt" not in fields and "msgid_plural" not in fields:
            yield fields["msgid"], fields["msgstr"]


def sentence_like(source, target):
    words = source.split()
    return (5 <= len(words) <= 30 and "\n" not in source and "\n" not in target and target.strip()
            and source != target and source[0].isupper() and source.rstrip()[-1] in ".?!"
            and not PLACEHOLDER.search(source) and not PLACEHOLDER.search(target))


def main(limit):
    seen = {}
    for source, target in entries(sys.stdin.read()):
        source, target = " ".join(source.split()), " ".join(target.split())
        if source not in seen and sentence_like(source, target):
            seen[source] = target
    chosen = sorted(seen, key=lambda s: hashlib.sha1(s.encode()).hexdigest())[:limit]
    for source in chosen:
        print(source + "\t" + seen[source])


if __name__ == "__main__":
    main(int(sys.argv[1]))
