"""An ingest is taken over only from inputs and tables whose bytes are as they were.

Whole, when nothing changed; file by file, for the first files when only later ones did: then
the tables are byte for byte those of an ingest that read every file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from functools import partial
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from born_assets.ingest.files import IngestSummary, TakenOver, ingest_files
from born_assets.ingest.lane_rows import LaneContext, lane_row
from born_assets.ingest.record import Origin
from born_assets.ingest.reuse import IngestInputs, IngestState
from born_assets.layout import DataDir
from born_assets.specs.manifests import LoadedManifest, load_manifest
from born_assets.store.row_groups import GroupWriter, ParquetGroups
from born_assets_tests.conftest import SAMPLE_DATA

LANE = "mbpp-plus-reference"
TABLES = ("rows.parquet", "quarantine.parquet", "files.parquet")


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
    before = IngestInputs.of(data, [lane], "spec")
    edit_in_place(lane, b"n + 1", b"n + 7")
    after = IngestInputs.of(data, [lane], "spec")
    assert after != before
    assert after.files_shared(before) == 0


def test_the_inputs_name_each_file_by_its_own_hash_in_reading_order(tmp_path: Path) -> None:
    """The files are hashed two at a time; each keeps its place and its own hash."""
    data = DataDir.at(tmp_path)
    files = [tmp_path / "lanes" / "a" / f"part-{n:03d}.jsonl" for n in range(5)]
    files[0].parent.mkdir(parents=True)
    for n, path in enumerate(files):
        path.write_bytes(b'{"prompt": "n + %d"}\n' % n * (1 + 1000 * n))
    inputs = IngestInputs.of(data, files, "spec")
    assert inputs.files == tuple(
        (f"lanes/a/{p.name}", hashlib.sha256(p.read_bytes()).hexdigest()) for p in files
    )
    assert IngestInputs.of(data, [], "spec").files == ()


def test_a_table_changed_in_place_is_not_taken_over(tmp_path: Path) -> None:
    folder = tmp_path / "warehouse" / "lanes" / "a"
    folder.mkdir(parents=True)
    table = folder / "rows.parquet"
    table.write_bytes(b"PAR1 rows written by the ingest PAR1")
    inputs = IngestInputs((("lanes/a/part-000.jsonl", "0" * 64),), "base")
    IngestState(inputs, IngestSummary(files=1, lines_read=1, accepted=1)).write(folder)
    assert IngestState.read(folder) == IngestState(inputs, IngestSummary(1, 1, 1))
    edit_in_place(table, b"written", b"WRITTEN")
    assert IngestState.read(folder) is None


def test_only_the_first_files_read_alike_are_shared() -> None:
    """A file is shared while every file before it is too, under the same spec, erasure, code."""
    a, b, c = ("a.jsonl", "1" * 64), ("b.jsonl", "2" * 64), ("c.jsonl", "3" * 64)
    before = IngestInputs((a, b), "base")
    assert IngestInputs((a, b, c), "base").files_shared(before) == 2  # a file added last
    assert IngestInputs((a, c, b), "base").files_shared(before) == 1  # one sorted before b
    assert IngestInputs((b,), "base").files_shared(before) == 0  # the first one removed
    assert IngestInputs((a, ("b.jsonl", "4" * 64)), "base").files_shared(before) == 1  # edited
    assert IngestInputs((a, b, c), "other code").files_shared(before) == 0


def lane_files(root: Path) -> tuple[DataDir, LoadedManifest, list[Path]]:
    """The sample lane (a good file, then one with bad lines) and a third file added after them.

    The third repeats two lines of the first, which makes them `duplicate_line` there only if
    the ids the first files accepted are known when it is read, and has a line cut short.
    """
    for folder in ("manifests", "tasks", "prompt_templates"):
        shutil.copytree(SAMPLE_DATA / folder, root / folder)
    shutil.copytree(SAMPLE_DATA / "lanes" / LANE, root / "lanes" / LANE)
    data = DataDir.at(root)
    loaded = load_manifest(root / "manifests" / f"{LANE}.yaml", data)
    assert isinstance(loaded, LoadedManifest), loaded
    first = (root / "lanes" / LANE / "part-000.jsonl").read_bytes().splitlines(keepends=True)
    added = root / "lanes" / LANE / "part-002-added.jsonl"
    added.write_bytes(first[3] + first[0][:40] + b"\n" + first[7])
    return data, loaded, sorted((root / "lanes" / LANE).glob("*.jsonl"))


def ingest(
    data: DataDir,
    loaded: LoadedManifest,
    files: list[Path],
    out: Path,
    taken_over: TakenOver | None = None,
    batch_rows: int = 50,
) -> IngestSummary:
    out.mkdir(parents=True)
    return ingest_files(
        files,
        origin=Origin("lane", LANE),
        data=data,
        parse_row=partial(lane_row, LaneContext(loaded)),
        out_dir=out,
        batch_rows=batch_rows,
        taken_over=taken_over,
    )


def digests(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in TABLES}


@pytest.fixture
def copied(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The index of each row group copied as bytes (the real copy, counted)."""
    indexes: list[int] = []
    copy = GroupWriter.copy

    def counted_copy(writer: GroupWriter, source: ParquetGroups, index: int) -> None:
        indexes.append(index)
        copy(writer, source, index)

    monkeypatch.setattr(GroupWriter, "copy", counted_copy)
    return indexes


def test_files_taken_over_give_the_tables_of_reading_them(
    tmp_path: Path, copied: list[int]
) -> None:
    data, loaded, files = lane_files(tmp_path / "data")
    assert [f.name for f in files][-1] == "part-002-added.jsonl"
    fresh = ingest(data, loaded, files, tmp_path / "fresh")
    last = ingest(data, loaded, files[:2], tmp_path / "last")
    assert last.quarantined_total > 0  # the second file's bad lines: taken over, not read

    files[0].write_bytes(b"")  # were the first two files read, the rows would not be the same
    files[1].write_bytes(b"")
    taken = ingest(
        data, loaded, files, tmp_path / "taken", taken_over=TakenOver(tmp_path / "last", 2)
    )

    assert digests(tmp_path / "taken") == digests(tmp_path / "fresh")
    assert taken == fresh
    # The first files' whole row groups of rows went over as bytes, the rest row by row.
    rows_groups = pq.ParquetFile(tmp_path / "last" / "rows.parquet").metadata.num_row_groups
    assert copied == list(range(len(copied))) and 0 < len(copied) < rows_groups
    assert fresh.quarantined["duplicate_line"] == last.quarantined["duplicate_line"] + 2


def test_a_file_s_rows_end_their_row_group_so_a_file_added_after_it_leaves_it_whole(
    tmp_path: Path, copied: list[int]
) -> None:
    """A group ends with its file once it holds half a batch; taken over, it is copied as bytes.

    The lane's 266 rows, split into files of 140 and 126 rows, read in batches of 50: the first
    file's last 40 rows end their group (16 rows would not, and go on into the next file).
    """
    data, loaded, files = lane_files(tmp_path / "data")
    lines = files[0].read_bytes().splitlines(keepends=True)
    assert len(lines) == 266
    files[0].write_bytes(b"".join(lines[:140]))
    second = files[0].with_name("part-000b.jsonl")
    second.write_bytes(b"".join(lines[140:]))
    files = [files[0], second]
    fresh = ingest(data, loaded, files, tmp_path / "fresh")
    sizes = [len(set(g)) for g in group_files(tmp_path / "fresh" / "rows.parquet")]
    assert sizes == [1] * 6  # 50, 50, 40 | 50, 50, 26: no group holds both files' rows
    ingest(data, loaded, files[:1], tmp_path / "last")
    files[0].write_bytes(b"")  # were the first file read, the rows would not be the same
    taken = ingest(data, loaded, files, tmp_path / "taken", TakenOver(tmp_path / "last", 1))
    assert digests(tmp_path / "taken") == digests(tmp_path / "fresh")
    assert taken == fresh
    assert copied == [0, 1, 2]  # its 40 rows too: the group an ingest of both files writes

    # Split after 116 rows, the first file's last 16 are too few to end a group.
    files[0].write_bytes(b"".join(lines[:116]))
    second.write_bytes(b"".join(lines[116:]))
    ingest(data, loaded, files, tmp_path / "mixed")
    sizes = [len(set(g)) for g in group_files(tmp_path / "mixed" / "rows.parquet")]
    assert sizes == [1, 1, 2, 1, 1, 1]  # 50, 50, 16 + 34, 50, 50, 16


def group_files(table: Path) -> list[list[str]]:
    """The input file of each row of each row group, in order."""
    reader = pq.ParquetFile(table)
    return [
        reader.read_row_group(g, ["source_file"]).column(0).to_pylist()
        for g in range(reader.num_row_groups)
    ]
