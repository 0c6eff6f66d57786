"""Everything the YAML files under a data dir define: the lanes, the imports, and broken specs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from born_assets.layout import DataDir
from born_assets.schemas.vocabulary import OriginKind
from born_assets.specs.common import SpecError
from born_assets.specs.imports import LoadedImport, load_imports
from born_assets.specs.manifests import LoadedManifest, load_manifests


@dataclass(frozen=True)
class Project:
    """Everything the YAML files under a data dir define."""

    data: DataDir
    lanes: list[LoadedManifest]
    imports: list[LoadedImport]
    lane_errors: list[SpecError]
    import_errors: list[SpecError]

    @classmethod
    def load(cls, data: DataDir) -> Project:
        """Read the manifests and import specs; broken ones are kept as errors, not raised.

        Two specs that pick the same input file are both refused, each naming the other: a line
        must have one origin, or conservation counts it twice.
        """
        lanes, lane_errors = load_manifests(data)
        imports, import_errors = load_imports(data)
        clashes = _shared_files(data, lanes, imports)
        lanes = [m for m in lanes if m.path not in clashes]
        imports = [i for i in imports if i.path not in clashes]
        lane_errors += [e for e in clashes.values() if e.path.parent == data.manifests]
        import_errors += [e for e in clashes.values() if e.path.parent != data.manifests]
        return cls(data, lanes, imports, lane_errors, import_errors)

    @property
    def errors(self) -> list[SpecError]:
        """Every broken manifest and import spec."""
        return [*self.lane_errors, *self.import_errors]

    def source_dirs(self) -> list[Path]:
        """The warehouse folder of every loaded lane and import."""
        lanes = [self.data.source_asset(OriginKind.LANE, m.manifest.lane_id) for m in self.lanes]
        imports = [
            self.data.source_asset(OriginKind.IMPORT, i.spec.import_id) for i in self.imports
        ]
        return lanes + imports

    def input_files(self) -> list[Path]:
        """Every input file of every loaded lane and import (what their specs pick)."""
        folders = [(m.manifest.output.path, m.manifest.output.glob) for m in self.lanes]
        folders += [(i.spec.files.path, i.spec.files.glob) for i in self.imports]
        return [path for folder, glob in folders for path in self.data.source_files(folder, glob)]

    def spec_files(self) -> dict[str, Path]:
        """Origin id -> the manifest or import spec that defines it."""
        return {
            **{m.manifest.lane_id: m.path for m in self.lanes},
            **{i.spec.import_id: i.path for i in self.imports},
        }

    def spec_hashes(self) -> dict[str, str]:
        """SHA-256 of every spec, task list and template a release depends on, by path."""
        hashes: dict[str, str] = {}
        for m in self.lanes:
            name = self.data.relative(m.path)
            hashes[name] = m.content_hash
            hashes[f"{name}#tasks"] = m.tasks_hash
            hashes[f"{name}#prompt_template"] = m.template_hash
            if m.tests is not None:
                hashes[f"{name}#tests"] = m.tests.file_sha256
        for i in self.imports:
            hashes[self.data.relative(i.path)] = i.content_hash
        return hashes


def _shared_files(
    data: DataDir, lanes: list[LoadedManifest], imports: list[LoadedImport]
) -> dict[Path, SpecError]:
    """Spec -> the error of a spec that picks an input file another spec also picks."""
    claims: dict[Path, list[Path]] = {}
    for spec, folder, glob in [
        *((m.path, m.manifest.output.path, m.manifest.output.glob) for m in lanes),
        *((i.path, i.spec.files.path, i.spec.files.glob) for i in imports),
    ]:
        for file in data.source_files(folder, glob):
            claims.setdefault(file.resolve(), []).append(spec)
    clashes: dict[Path, SpecError] = {}
    for file, specs in claims.items():
        if len(specs) < 2:
            continue
        for spec in specs:
            others = ", ".join(data.relative(o) for o in specs if o != spec)
            field = "output.path" if spec.parent == data.manifests else "files.path"
            message = f"picks {data.relative(file)}, which {others} also picks"
            clashes.setdefault(spec, SpecError(spec, field, message))
    return clashes
