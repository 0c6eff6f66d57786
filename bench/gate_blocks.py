"""The code blocks the syntax gate parses in a built corpus, each distinct block written once.

    python -m bench.gate_blocks DATA_DIR OUT_PARQUET

The parse floor (`bench.references parse`) parses exactly these. They are taken from the built
warehouse, not guessed from the input: every row the gates parsed (`python_blocks_checked` is not
null in the gated table: rows a hard reason had already gated out are not parsed), the sanitized
response of that row, and in it the blocks `GateEvaluator.python_blocks` selects for the row's
family and kind, the same rule the gate applies. A block seen before (same SHA-256 of its text) is
not written again. Prints one JSON line: rows, blocks, distinct blocks and their bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from born_assets import layout
from born_assets.curation.gates import GateEvaluator
from born_assets.layout import Asset, DataDir
from born_assets.schemas.vocabulary import RowKind
from born_assets.specs.policy import Policy

BATCH_ROWS = 2_000
_PARSED_ROWS = """
SELECT g.source_benchmark AS family, g.row_kind AS kind, s.response
FROM read_parquet($gated) AS g JOIN read_parquet($sanitized) AS s USING (example_id)
WHERE g.python_blocks_checked IS NOT NULL
ORDER BY g.example_id
"""


def collect(data_dir: Path, out: Path) -> dict[str, Any]:
    """Write every distinct block the gate parses to `out` (column `code`); return the counts."""
    data = DataDir.at(data_dir)
    evaluator = GateEvaluator(Policy.load(data.policy))
    params = {
        "gated": (data.stage(Asset.GATED) / layout.ROWS).as_posix(),
        "sanitized": (data.stage(Asset.SANITIZED) / layout.ROWS).as_posix(),
    }
    seen: set[bytes] = set()
    counts = {"rows": 0, "blocks": 0, "distinct_blocks": 0, "distinct_bytes": 0}
    schema = pa.schema([("code", pa.large_string())])
    reader = duckdb.connect().sql(_PARSED_ROWS, params=params).to_arrow_reader(BATCH_ROWS)
    with pq.ParquetWriter(out, schema) as writer:
        for batch in reader:
            fresh: list[str] = []
            for row in batch.to_pylist():
                counts["rows"] += 1
                for code in evaluator.python_blocks(
                    row["family"], RowKind(row["kind"]), row["response"] or ""
                ):
                    counts["blocks"] += 1
                    encoded = code.encode("utf-8")
                    digest = hashlib.sha256(encoded).digest()
                    if digest not in seen:
                        seen.add(digest)
                        fresh.append(code)
                        counts["distinct_bytes"] += len(encoded)
            counts["distinct_blocks"] += len(fresh)
            writer.write_table(pa.table({"code": fresh}, schema=schema))
    return counts


def main(argv: list[str] | None = None) -> None:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    json.dump(collect(args.data_dir, args.out), sys.stdout)
    print()


if __name__ == "__main__":
    main()
