"""Train the screening's second opinion (``alpr_guard.policy.second_opinion``) and write it.

The model learns from the development parts of the labelled justifications only (the parts
``bench/screening.py`` names as development; a held-out part is never trained on, so its score
stays an honest estimate): a text labelled prohibited is the positive class, every other text
(legitimate, flag-worthy, junk) the negative one. Training is deterministic: the same data give
the same file, byte for byte.

    .venv/bin/python tools/train_screening_model.py [--out config/screening-model.california.json]
    .venv/bin/python tools/train_screening_model.py --check   # exit 1 if the file is stale
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from screening import DEVELOPMENT_PARTS, PARTS, read_rows  # noqa: E402

from alpr_guard.policy.second_opinion import dumps, train  # noqa: E402

DEFAULT_OUT = ROOT / "config" / "screening-model.california.json"


def build() -> str:
    texts: list[str] = []
    labels: list[bool] = []
    parts: list[tuple[str, int]] = []
    for part in DEVELOPMENT_PARTS:
        rows = read_rows(PARTS[part])
        parts.append((PARTS[part].name, len(rows)))
        texts.extend(row["text"] for row in rows)
        labels.extend(row["label"] == "prohibited" for row in rows)
    return dumps(train(texts, labels, parts=parts))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="only compare with --out")
    args = parser.parse_args(argv)
    started = time.process_time()
    text = build()
    took = time.process_time() - started
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out}: stale; run tools/train_screening_model.py", file=sys.stderr)
            return 1
        print(f"{args.out}: up to date ({took:.1f} s CPU to retrain)")
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"{args.out}: written ({took:.1f} s CPU, {len(text.splitlines()) - 2} features)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
