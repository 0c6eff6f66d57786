"""Everything that decided a release, pinned by SHA-256, and checked again by `born verify`.

`pinned_inputs` lists, for `release.json`, every file under the data dir a release depends on
(`files`: path relative to the data dir -> SHA-256): lane manifests with their task lists,
prompt templates and tests files, import specs, the policy, every eval set spec and its
benchmark file, the erasure requests, the stored review verdicts and the sheets they came from.
Grouped views say what each file is (`prompt_templates` per lane with the template id,
`eval_sets` per eval set, `erasure_requests`, `review_sheets`). `changed_inputs` rehashes the
files of a published release's pins and its source files, names each that changed or went
missing, and each file a lane or import picks now that the release did not read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from born_assets.layout import DataDir, OutsideDataDir
from born_assets.schemas.identity import sha256_hex
from born_assets.specs.common import SpecFieldError, resolve_file
from born_assets.specs.erasure import load_requests
from born_assets.specs.evals import load_eval_sets
from born_assets.specs.manifests import LoadedManifest
from born_assets.specs.project import Project


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return sha256_hex(path.read_bytes())


def _lane_files(data: DataDir, loaded: LoadedManifest) -> tuple[dict[str, str], dict[str, Any]]:
    manifest = loaded.manifest
    files = {data.relative(loaded.path): loaded.content_hash}
    template_path = None
    for relative, field in (
        (manifest.tasks.file, "tasks.file"),
        (manifest.prompt_template.path, "prompt_template.path"),
    ):
        if relative is None:
            continue
        try:
            path = resolve_file(relative, loaded.path.parent, data, field)
        except SpecFieldError:
            continue  # the manifest would not have loaded; nothing to pin
        files[data.relative(path.resolve())] = file_hash(path)
        if field == "prompt_template.path":
            template_path = data.relative(path.resolve())
    if loaded.tests is not None:  # the tests `executed` ran the lane's code against
        files[data.relative(loaded.tests.path.resolve())] = loaded.tests.file_sha256
    template = {
        "id": manifest.prompt_template.id,
        "sha256": loaded.template_hash,
        "path": template_path,
    }
    return files, template


def _review_files(data: DataDir) -> tuple[dict[str, str], dict[str, str]]:
    """The stored verdict files, and the sheets (name -> SHA-256) their verdicts came from."""
    folder = data.review_records
    records = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    files = {data.relative(p): file_hash(p) for p in records}
    sheets: dict[str, str] = {}
    for path in records:
        for line in path.read_bytes().splitlines():
            if line.strip():
                record = orjson.loads(line)
                sheets[record["review_sheet"]] = record["review_sheet_sha256"]
    for name in list(sheets):
        sheet = data.review_sheets / name
        if sheet.is_file() and file_hash(sheet) == sheets[name]:
            files[data.relative(sheet)] = sheets[name]
    return files, dict(sorted(sheets.items()))


def pinned_inputs(data: DataDir) -> dict[str, Any]:
    """Every input file of a release by SHA-256, and what each group of them is."""
    project = Project.load(data)
    files: dict[str, str] = {}
    templates: dict[str, Any] = {}
    for loaded in project.lanes:
        lane_files, templates[loaded.manifest.lane_id] = _lane_files(data, loaded)
        files.update(lane_files)
    files.update({data.relative(i.path): i.content_hash for i in project.imports})
    if data.policy.is_file():
        files[data.relative(data.policy)] = file_hash(data.policy)
    eval_sets: dict[str, Any] = {}
    for eval_set in load_eval_sets(data)[0]:
        spec, benchmark = data.relative(eval_set.path), data.relative(eval_set.data_file.resolve())
        files[spec], files[benchmark] = eval_set.content_hash, eval_set.data_sha256
        eval_sets[eval_set.eval_id] = {
            "spec": spec,
            "spec_sha256": eval_set.content_hash,
            "file": benchmark,
            "file_sha256": eval_set.data_sha256,
            "generator_model": eval_set.spec.generator_model,
        }
    erasure: dict[str, Any] = {"requests": []}
    if data.erasure_requests.is_file():
        files[data.relative(data.erasure_requests)] = file_hash(data.erasure_requests)
        requests = load_requests(data)
        erasure["requests"] = [r.id for r in getattr(requests, "requests", [])]
    review_files, sheets = _review_files(data)
    files.update(review_files)
    return {
        "files": dict(sorted(files.items())),
        "prompt_templates": dict(sorted(templates.items())),
        "eval_sets": dict(sorted(eval_sets.items())),
        "erasure_requests": erasure,
        "review_sheets": sheets,
    }


@dataclass(frozen=True)
class ChangedInput:
    """A pinned input file whose bytes are not those the release was built from."""

    path: str
    pinned: str | None  # None: a source file the release did not read (added since)
    now: str | None  # None: the file is gone

    def __str__(self) -> str:
        if self.pinned is None:
            return f"{self.path}: not read by the release (added since), now {self.now}"
        found = f"now {self.now}" if self.now else "now missing"
        return f"{self.path}: pinned {self.pinned}, {found}"


def changed_inputs(data: DataDir, inputs: dict[str, Any]) -> list[ChangedInput]:
    """The inputs of a release that are not as it read them.

    Pinned files and source files that changed or went missing, and the files the lanes and
    imports pick now that the release did not read.
    """
    pinned = {**inputs.get("pins", {}).get("files", {}), **inputs.get("source_files", {})}
    changed = []
    for relative, digest in sorted(pinned.items()):
        try:
            path = data.inside(relative, "release.json inputs")
        except OutsideDataDir:
            changed.append(ChangedInput(relative, digest, None))
            continue
        now = file_hash(path) if path.is_file() else None
        if now != digest:
            changed.append(ChangedInput(relative, digest, now))
    read = inputs.get("source_files", {})
    for path in Project.load(data).input_files():
        relative = data.relative(path)
        if relative not in read:
            changed.append(ChangedInput(relative, None, file_hash(path)))
    return changed
