"""Streaming a table holds about one batch, however many row groups have gone by.

pyarrow's default reader keeps what it pre-buffered of every row group read so far; at 1M rows
that made each step that streamed a table grow past 3 GB. Each case streams a 125 MB table of 100
row groups in a fresh interpreter and reports how far its resident memory grew meanwhile.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUPS = 100
_STREAM = """
import sys
from pathlib import Path
import pyarrow.parquet as pq
from born_assets.store.parquet import iter_parquet_batches

def rss_mb():
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) // 1024

path = Path(sys.argv[2])
batches = (
    pq.ParquetFile(path).iter_batches(batch_size=5)
    if sys.argv[1] == "pyarrow-default"
    else iter_parquet_batches([path], 5)
)
start, grown = rss_mb(), 0
for batch in batches:
    grown = max(grown, rss_mb() - start)
print(grown)
"""


def _table(path: Path) -> Path:
    schema = pa.schema([("text", pa.string())])
    with pq.ParquetWriter(path, schema, compression="none") as writer:
        for group in range(ROW_GROUPS):
            texts = [f"{group:04d}{row}".encode().hex() * 25_000 for row in range(5)]
            writer.write_table(pa.table({"text": texts}, schema=schema))
    return path


def _growth_mb(how: str, path: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _STREAM, how, str(path)], capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip())


def test_streaming_a_table_holds_a_few_row_groups_not_the_table(tmp_path: Path) -> None:
    path = _table(tmp_path / "rows.parquet")
    size_mb = path.stat().st_size // 2**20
    assert size_mb >= 90
    assert _growth_mb("ours", path) < 25
    assert _growth_mb("pyarrow-default", path) > size_mb // 2  # what the reader guards against
