"""Tool-call validation alone, on a built corpus: rows/s of the check the gates run inside them.

    python -m bench.tool_calls DATA_DIR

The gates measure each row's tool-use structure (`curation.tool_use.ToolUseMeter`: declared
tools, arguments as JSON valid against the tool's schema, results answering calls) as part of one
pass, so the graph has no step of its own for it. This times that measurement alone, one core,
over every sanitized row's `messages` and `tools` (read beforehand, so reading is not counted).
Prints one JSON line: rows, calls, seconds, rows/s.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from born_assets import layout
from born_assets.curation.tool_use import ToolUseMeter
from born_assets.layout import Asset, DataDir
from born_assets.specs.policy import Policy
from born_assets.store.parquet import parquet_reader


def measure(data_dir: Path) -> dict[str, Any]:
    """Time `ToolUseMeter.measure` over every sanitized row, batch by batch."""
    data = DataDir.at(data_dir)
    tool_use = Policy.load(data.policy).gates.tool_use
    meter = ToolUseMeter(tool_use.require_declared_tools, tool_use.validate_arguments)
    rows = calls = 0
    seconds = 0.0
    table = parquet_reader(data.stage(Asset.SANITIZED) / layout.ROWS)
    for batch in table.iter_batches(2_000, columns=["messages", "tools"]):
        pairs = list(zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True))
        start = time.perf_counter()
        for messages, tools in pairs:
            calls += meter.measure(messages, tools).calls
        seconds += time.perf_counter() - start
        rows += len(pairs)
    return {
        "rows": rows,
        "tool_calls": calls,
        "seconds": seconds,
        "rows_per_s": rows / seconds if seconds else None,
    }


def main(argv: list[str] | None = None) -> None:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    args = parser.parse_args(argv)
    json.dump(measure(args.data_dir), sys.stdout)
    print()


if __name__ == "__main__":
    main()
