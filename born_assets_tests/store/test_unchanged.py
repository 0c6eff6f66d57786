"""A step keeps its output only when its inputs and its own files are the bytes it remembers.

A no-change rebuild must compute and publish nothing, but a remembered result must never be
trusted on names, sizes or times: an input rewritten with other bytes (even with the same size
and modification time), a changed version, or an output file changed behind the step's back
all make it build again.
"""

import os
from pathlib import Path

from born_assets import layout
from born_assets.store.unchanged import attach, record, remembered, step_key

VERSIONS = {"code": "c1", "policy": "p1"}


def _step(tmp_path: Path) -> tuple[Path, Path, str]:
    source = tmp_path / "warehouse" / "lanes" / "a" / "rows.parquet"
    source.parent.mkdir(parents=True)
    source.write_bytes(b"input rows v1")
    out = tmp_path / "out"
    out.mkdir()
    (out / "rows.parquet").write_bytes(b"output rows")
    key = record(out, [source], VERSIONS)
    assert attach(out, key, "metadata")
    return source, out, key


def test_unchanged_inputs_give_back_the_metadata(tmp_path: Path) -> None:
    source, out, key = _step(tmp_path)
    assert remembered(out, step_key([source], VERSIONS)) == "metadata"
    assert key == step_key([source], dict(reversed(VERSIONS.items())))


def test_an_input_with_other_bytes_but_the_same_size_and_time_is_not_unchanged(
    tmp_path: Path,
) -> None:
    source, out, _ = _step(tmp_path)
    stat = source.stat()
    source.write_bytes(b"input rows v2")
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert remembered(out, step_key([source], VERSIONS)) is None


def test_another_version_or_a_missing_input_is_not_unchanged(tmp_path: Path) -> None:
    source, out, _ = _step(tmp_path)
    assert remembered(out, step_key([source], {**VERSIONS, "policy": "p2"})) is None
    source.unlink()
    assert remembered(out, step_key([source], VERSIONS)) is None


def test_an_output_changed_added_or_removed_is_not_trusted(tmp_path: Path) -> None:
    source, out, _ = _step(tmp_path)
    key = step_key([source], VERSIONS)
    (out / "rows.parquet").write_bytes(b"output rowz")
    assert remembered(out, key) is None
    (out / "rows.parquet").write_bytes(b"output rows")
    assert remembered(out, key) == "metadata"
    (out / "extra.parquet").write_bytes(b"")
    assert remembered(out, key) is None
    (out / "extra.parquet").unlink()
    (out / "rows.parquet").unlink()
    assert remembered(out, key) is None


def test_metadata_is_attached_only_to_the_state_of_the_same_key(tmp_path: Path) -> None:
    source, out, key = _step(tmp_path)
    assert not attach(out, "another run's key", "other metadata")
    assert remembered(out, key) == "metadata"
    bare = tmp_path / "bare"
    bare.mkdir()
    record(bare, [source], VERSIONS)
    assert remembered(bare, key) is None  # built, but its metadata never attached
    assert not (tmp_path / "none" / layout.STEP_STATE).exists()
    assert remembered(tmp_path / "none", key) is None
