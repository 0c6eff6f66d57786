"""An ingest is taken over only from inputs and tables whose bytes are as they were."""

from __future__ import annotations

import os
from pathlib import Path

from born_assets.ingest.files import IngestSummary
from born_assets.ingest.reuse import IngestState, ingest_key
from born_assets.layout import DataDir


def edit_in_place(path: Path, old: bytes, new: bytes) -> None:
    """Replace bytes of the same length and put the times back (`touch -r`, a restore)."""
    assert len(old) == len(new)
    status = path.stat()
    path.write_bytes(path.read_bytes().replace(old, new))
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (status.st_size, status.st_mtime_ns)


def test_an_input_edited_in_place_is_read_again(tmp_path: Path) -> None:
    data = DataDir.at(tmp_path)
    lane = tmp_path / "lanes" / "a" / "part-000.jsonl"
    lane.parent.mkdir(parents=True)
    lane.write_bytes(b'{"prompt": "n + 1"}\n')
    before = ingest_key(data, [lane], "spec")
    edit_in_place(lane, b"n + 1", b"n + 7")
    assert ingest_key(data, [lane], "spec") != before


def test_a_table_changed_in_place_is_not_taken_over(tmp_path: Path) -> None:
    folder = tmp_path / "warehouse" / "lanes" / "a"
    folder.mkdir(parents=True)
    table = folder / "rows.parquet"
    table.write_bytes(b"PAR1 rows written by the ingest PAR1")
    IngestState("key", IngestSummary(files=1, lines_read=1, accepted=1)).write(folder)
    assert IngestState.read(folder) is not None
    edit_in_place(table, b"written", b"WRITTEN")
    assert IngestState.read(folder) is None
