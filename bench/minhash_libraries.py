"""Which MinHash library near-dedup uses: datasketch and rensa on the same bench rows.

    python -m bench.minhash_libraries DATA_DIR [--rows N] [--perm 112] [--shingle 5]

Reads the first N rows of a bench corpus's lanes (prompt + response, as near-dedup hashes them),
builds the same word shingles once, then times each library's signatures over them, and checks
each library's estimate against the exact Jaccard of planted near-duplicate pairs (every 50th
row copied with 1 in 12 of its words replaced) and of random pairs. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from born_assets.text.words import normalize_words, word_shingles


def _rows(data_dir: Path, limit: int) -> list[str]:
    texts = []
    for path in sorted((data_dir / "lanes").glob("*/*.jsonl")):
        with path.open("rb") as handle:
            for line in islice(handle, limit // 5):
                try:
                    row = orjson.loads(line)
                    texts.append(f"{row['prompt']}\n{row['response']}")
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    continue
    return texts[:limit]


def _planted(texts: list[str], rng: random.Random) -> list[str]:
    out = []
    for text in texts[::50]:
        words = text.split()
        for i in range(0, len(words), 12):
            words[i] = rng.choice(("value", "item", "thing", "entry"))
        out.append(" ".join(words))
    return out


def _datasketch(shingles: list[list[bytes]], perm: int) -> np.ndarray:
    from datasketch import MinHash

    rows = []
    for doc in shingles:
        sketch = MinHash(num_perm=perm, seed=1)
        sketch.update_batch(doc)
        rows.append(sketch.hashvalues)
    return np.array(rows, dtype=np.uint64)


def _rensa(shingles: list[list[bytes]], perm: int) -> np.ndarray:
    from rensa import RMinHash

    matrix = RMinHash.digest_matrix_from_token_sets(shingles, num_perm=perm, seed=1)
    return np.array(matrix.to_rows(), dtype=np.uint32)


def _error(signatures: np.ndarray, sets: list[set[bytes]], pairs: list[tuple[int, int]]) -> float:
    errors = []
    for a, b in pairs:
        exact = len(sets[a] & sets[b]) / max(1, len(sets[a] | sets[b]))
        estimate = float(np.mean(signatures[a] == signatures[b]))
        errors.append(abs(exact - estimate))
    return float(np.mean(errors))


def measure(data_dir: Path, rows: int, perm: int, shingle: int) -> dict[str, Any]:
    """Seconds to shingle and to sign `rows` rows per library, and mean estimate errors."""
    rng = random.Random(7)
    texts = _rows(data_dir, rows)
    planted = _planted(texts, rng)
    start = time.perf_counter()
    shingles = [word_shingles(normalize_words(t), shingle) for t in texts + planted]
    shingle_s = time.perf_counter() - start
    sets = [set(s) for s in shingles]
    near = [(i * 50, len(texts) + i) for i in range(len(planted))]
    far = [(rng.randrange(len(texts)), rng.randrange(len(texts))) for _ in range(len(near))]
    result: dict[str, Any] = {"rows": len(shingles), "perm": perm, "shingle_s": shingle_s}
    for name, sign in (("rensa", _rensa), ("datasketch", _datasketch)):
        start = time.perf_counter()
        signatures = sign(shingles, perm)
        result[name] = {
            "signature_s": time.perf_counter() - start,
            "mean_abs_error_near": _error(signatures, sets, near),
            "mean_abs_error_random": _error(signatures, sets, far),
        }
    return result


def main(argv: list[str] | None = None) -> None:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--perm", type=int, default=112)
    parser.add_argument("--shingle", type=int, default=5)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.data_dir, args.rows, args.perm, args.shingle)))


if __name__ == "__main__":
    main()
