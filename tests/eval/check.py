#!/usr/bin/env python3
"""Validate the retrieval evaluation set in tests/eval/.

Checks that every line of questions.jsonl parses and has the expected shape,
that ids are unique, that every expected path exists under corpus/, that each
translation has an English original with the same answerability and expected
pages, and that the counts meet the minimums the set promises (see README.md).

Usage: python3 tests/eval/check.py   (exit status 0 when the set is valid)
"""

import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
QUESTIONS = HERE / "questions.jsonl"

LANGS = {"en", "es", "pl"}
ID_RE = re.compile(r"^q\d{3}(-(es|pl))?$")
KEYS = {"id", "lang", "question", "answerable", "expected"}

MIN_EN_ANSWERABLE = 60
MIN_EN_UNANSWERABLE = 20
MIN_EXPECTED_PAGES = 30
MIN_TRANSLATED_ANSWERABLE = 40
MIN_TRANSLATED_UNANSWERABLE = 15
CORPUS_PAGES = (60, 120)


def main() -> int:
    errors = []
    rows = []
    for n, line in enumerate(QUESTIONS.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            errors.append(f"line {n}: empty line")
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"line {n}: not JSON ({e})")
            continue
        if not isinstance(row, dict) or set(row) != KEYS:
            errors.append(f"line {n}: keys must be exactly {sorted(KEYS)}")
            continue
        rid, lang = row["id"], row["lang"]
        if not isinstance(rid, str) or not ID_RE.match(rid):
            errors.append(f"line {n}: bad id {rid!r}")
            continue
        if lang not in LANGS:
            errors.append(f"line {n} ({rid}): bad lang {lang!r}")
        suffix = rid.partition("-")[2]
        if (suffix or "en") != lang:
            errors.append(f"line {n} ({rid}): id suffix does not match lang {lang!r}")
        if not isinstance(row["question"], str) or not row["question"].strip():
            errors.append(f"line {n} ({rid}): empty question")
        if not isinstance(row["answerable"], bool):
            errors.append(f"line {n} ({rid}): answerable must be true or false")
        exp = row["expected"]
        if not isinstance(exp, list) or not all(isinstance(p, str) for p in exp):
            errors.append(f"line {n} ({rid}): expected must be a list of paths")
            continue
        if row["answerable"] and not exp:
            errors.append(f"line {n} ({rid}): answerable question with no expected page")
        if not row["answerable"] and exp:
            errors.append(f"line {n} ({rid}): unanswerable question must have expected []")
        if len(set(exp)) != len(exp):
            errors.append(f"line {n} ({rid}): duplicate expected path")
        for p in exp:
            if p.startswith("/") or ".." in Path(p).parts or not (CORPUS / p).is_file():
                errors.append(f"line {n} ({rid}): expected path {p!r} is not a corpus file")
        rows.append(row)

    ids = Counter(r["id"] for r in rows)
    for rid, c in ids.items():
        if c > 1:
            errors.append(f"id {rid} appears {c} times")

    by_id = {r["id"]: r for r in rows}
    for r in rows:
        if r["lang"] == "en":
            continue
        base = r["id"].split("-")[0]
        orig = by_id.get(base)
        if orig is None or orig["lang"] != "en":
            errors.append(f"{r['id']}: no English original {base}")
            continue
        if orig["answerable"] != r["answerable"] or orig["expected"] != r["expected"]:
            errors.append(f"{r['id']}: answerable/expected differ from {base}")

    counts = Counter((r["lang"], r["answerable"]) for r in rows)
    expected_pages = {p for r in rows if r["lang"] == "en" for p in r["expected"]}
    pages = sorted(p for p in CORPUS.rglob("*.md") if p.name != "SOURCE.md")

    def need(cond, msg):
        if not cond:
            errors.append(msg)

    need(counts[("en", True)] >= MIN_EN_ANSWERABLE,
         f"need >= {MIN_EN_ANSWERABLE} answerable English questions")
    need(counts[("en", False)] >= MIN_EN_UNANSWERABLE,
         f"need >= {MIN_EN_UNANSWERABLE} unanswerable English questions")
    need(len(expected_pages) >= MIN_EXPECTED_PAGES,
         f"answerable questions must cover >= {MIN_EXPECTED_PAGES} pages")
    for lang in ("es", "pl"):
        need(counts[(lang, True)] >= MIN_TRANSLATED_ANSWERABLE,
             f"need >= {MIN_TRANSLATED_ANSWERABLE} answerable {lang} questions")
        need(counts[(lang, False)] >= MIN_TRANSLATED_UNANSWERABLE,
             f"need >= {MIN_TRANSLATED_UNANSWERABLE} unanswerable {lang} questions")
    lo, hi = CORPUS_PAGES
    need(lo <= len(pages) <= hi, f"corpus must hold {lo}-{hi} pages, has {len(pages)}")
    for f in ("SOURCE.md", "LICENSE", "NOTICE"):
        need((CORPUS / f).is_file(), f"corpus/{f} is missing")

    size = sum(p.stat().st_size for p in pages)
    print(f"corpus: {len(pages)} pages, {size} bytes")
    print(f"pages named in expected (English): {len(expected_pages)}")
    print(f"{'lang':<5} {'answerable':>10} {'unanswerable':>12} {'total':>6}")
    for lang in ("en", "es", "pl"):
        a, u = counts[(lang, True)], counts[(lang, False)]
        print(f"{lang:<5} {a:>10} {u:>12} {a + u:>6}")
    print(f"{'all':<5} {sum(v for (l, a), v in counts.items() if a):>10} "
          f"{sum(v for (l, a), v in counts.items() if not a):>12} {len(rows):>6}")

    if errors:
        for e in errors:
            print("ERROR:", e, file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
