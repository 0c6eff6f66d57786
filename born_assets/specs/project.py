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
        """Read the manifests and import specs; broken ones are kept as errors, not raised."""
        lanes, lane_errors = load_manifests(data)
        imports, import_errors = load_imports(data)
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
