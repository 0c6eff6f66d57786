"""Every path under the data dir (`$BORN_DATA_DIR`), spelled here and nowhere else.

```
<data dir>/
  policy.yaml                  the curation policy
  manifests/<lane>.yaml        lane manifests        imports/<import>.yaml   import specs
  evals/<eval set>.yaml        eval sets             (lane and trace files where specs say)
  erasure/requests.yaml        erasure requests      erasure/tombstones.parquet
  reviews/sheets/  reviews/records/                  review sheets out, verdicts in
  warehouse/<asset key>/<table>.parquet              one folder per asset (a symlink swapped
  warehouse/.lock  warehouse/.locks/  warehouse/.duckdb_spill/     atomically, see store.atomic)
  warehouse.duckdb             SQL views over the warehouse and releases
  releases/<version>/          one folder per release (see `ReleaseDir`; a symlink swapped
  releases/.issued_versions.jsonl   atomically)   every version ever issued
  similarity/<version>/        the similarity index of one release (see `SimilarityIndexDir`)
  cache/execution/             sandboxed test results by code, tests and environment hash
  cache/checks/                asset check results by the content of the files they read
  cache/comparisons/           a release's changes since the one before, by both one's shards
  cache/shards/                published release shards by their source's rows and texts
  cache/row_groups/            per row-by-row check, the digests of the row groups that passed
  cache/text_facts/            counts over a release shard's texts, by the shard's SHA-256
```

A path that comes from a spec, the policy or the command line is resolved with `DataDir.inside`,
which follows symlinks and refuses anything that ends up outside the data dir; a file or folder
a command writes on request is resolved with `DataDir.output`, which refuses the releases folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DATA_DIR_ENV = "BORN_DATA_DIR"
DEFAULT_DATA_DIR = "data"

# Tables inside an asset's folder.
ROWS = "rows.parquet"
QUARANTINE = "quarantine.parquet"
FILES = "files.parquet"
EXITS = "exits.parquet"
MATCHES = "matches.parquet"
REPORT = "report.parquet"
CHECKS = "checks.parquet"
REDACTED = "redacted.parquet"
ROW_FATES = "row_fates.parquet"
NEAR_DUPLICATES = "near_duplicates.parquet"
SIGNATURES = "signatures.parquet"  # near-dedup MinHash signatures, remembered by example id
NEAREST = "nearest.parquet"
SCRATCH_VERDICTS = ".verdicts.parquet"
SCRATCH_TEXTS = ".texts-"  # prefix of a scratch folder of sorted rows and text buckets
SCRATCH_NARROW = "narrow.parquet"  # in it: the narrow rows, sorted (by source first: a release)
SCRATCH_SET = "set.parquet"  # in it, numbered: one shard set's narrow rows (release shards)
SCRATCH_KNOWN = "known.parquet"  # in it: the narrow rows a memo knows, sorted by example_id
SCRATCH_WANTED = "wanted.parquet"  # in it: the narrow rows whose texts are read, sorted by id
SCRATCH_OTHERS = "others.parquet"  # in it: the narrow rows whose texts are not read, sorted by id
SCRATCH_DEDUP = ".exact-"  # prefix of a scratch folder of exact dedup's decisions
SCRATCH_EXACT = "exact.parquet"  # in it: the decisions, sorted by example_id
# What an asset's folder remembers for the next run.
MEMO_STATE = "memo.json"
INGEST_STATE = "ingest.json"
STEP_STATE = "step.json"  # the content key of a step's inputs and the hashes of what it wrote
# A generating lane's own files, in its output folder.
ATTEMPTS = "attempts.jsonl"
ATTEMPTS_LOCK = ".lock"
# Asset-key groups of the sources, which are also their folders in the warehouse.
SOURCE_GROUPS = {"lane": "lanes", "import": "imports"}


class Asset:
    """The stages' assets after ingest: each name is the asset's key and its warehouse folder."""

    SANITIZED = "sanitized"
    GATED = "gated"
    DEDUPLICATED = "deduplicated"
    CONTAMINATION = "contamination"
    PII = "pii"
    ROW_FATES = "row_fates"
    ERASURE = "erasure"
    HUMAN_REVIEWS = "human_reviews"
    EXECUTED = "executed"


class OutsideDataDir(ValueError):
    """A path from a spec or the command line that resolves outside the data dir."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"{what}: {reason}")
        self.reason = reason


class InsideReleases(ValueError):
    """An output path from the command line that lies in the releases folder."""


def plain_name(name: str, what: str) -> str:
    """`name` if it names one visible folder; a version from the command line may not climb."""
    if not name or name.startswith(".") or Path(name).name != name or "\\" in name:
        raise OutsideDataDir(what, f"{name!r} is not a plain folder name")
    return name


@dataclass(frozen=True)
class ReleaseDir:
    """One release folder: `releases/<version>/`.

    ```
    data/train-00000-of-00002.parquet   rows as zstd Parquet shards
    fates.parquet                       every input line's fate in this release
    transparency.md  transparency.csv   one row per lane and import, family footers, a total
    data/<config>.train-00000-of-00001.parquet   a licence-split config's shards (see specs)
    pii_report.parquet                  PII and secret findings per released row and kind
    contamination_report.parquet        eval-set matches of the rows found contaminated
    plots/*.png                         counts per family and lane, length and score histograms
    README.md                           dataset card (Hugging Face layout, YAML header)
    croissant.json                      MLCommons Croissant metadata with responsible-AI fields
    release.json                        hashes of every file above, pinned inputs, counts
    ```
    """

    path: Path

    DATA = "data"
    SHARD_PREFIX = "train"
    FATES = "fates.parquet"
    TRANSPARENCY_MD = "transparency.md"
    TRANSPARENCY_CSV = "transparency.csv"
    CARD = "README.md"
    CROISSANT = "croissant.json"
    RELEASE_JSON = "release.json"
    WITHHELD = ".withheld.parquet"
    PII_REPORT = "pii_report.parquet"
    CONTAMINATION_REPORT = "contamination_report.parquet"
    PLOTS = "plots"
    PLOT_NAMES = ("rows_by_family", "rows_by_lane", "length_chars", "curation_score")
    UNKNOWN_SEEDS = ".unknown_seeds.parquet"
    SHIPPED_HASHES = ".shipped_response_sha256.parquet"
    LICENSE_REFUSALS = ".license_refusals.parquet"

    @property
    def version(self) -> str:
        """The release's version name (its folder name)."""
        return self.path.name

    @staticmethod
    def shard_name(index: int, count: int, config: str = "") -> str:
        """Relative path of shard `index` of `count` (Hugging Face naming).

        The default config's shards are `data/train-*`, another config's `data/<config>.train-*`.
        """
        stem = f"{config}.{ReleaseDir.SHARD_PREFIX}" if config else ReleaseDir.SHARD_PREFIX
        return f"{ReleaseDir.DATA}/{stem}-{index:05d}-of-{count:05d}.parquet"

    @staticmethod
    def shard_glob_of(config: str = "") -> str:
        """The glob (relative to the folder) of one config's shards."""
        return ReleaseDir.shard_name(0, 0, config).replace("-00000-of-00000", "-*")

    def plot(self, name: str) -> Path:
        """One plot of the release (`plots/<name>.png`)."""
        return self.path / self.PLOTS / f"{name}.png"

    def plot_files(self) -> list[str]:
        """Every plot's path relative to the release folder, in `PLOT_NAMES` order."""
        return [self.plot(name).relative_to(self.path).as_posix() for name in self.PLOT_NAMES]

    def file(self, name: str) -> Path:
        """A file of the release by its name relative to the folder."""
        return self.path / name

    @property
    def data(self) -> Path:
        """The shards' folder."""
        return self.path / self.DATA

    def shards(self) -> list[Path]:
        """The row shards, sorted."""
        return sorted(self.data.glob("*.parquet"))

    @property
    def shard_glob(self) -> Path:
        """A glob over the shards, for DuckDB's `read_parquet`."""
        return self.data / "*.parquet"

    @property
    def fates(self) -> Path:
        """Every input line's fate in this release."""
        return self.path / self.FATES

    @property
    def release_json(self) -> Path:
        """The release's manifest: file hashes, inputs, counts."""
        return self.path / self.RELEASE_JSON

    @property
    def withheld(self) -> Path:
        """Scratch: rows a release kept out, while it is being built."""
        return self.path / self.WITHHELD

    def is_published(self) -> bool:
        """True once its release.json exists (it is written last)."""
        return self.release_json.is_file()


@dataclass(frozen=True)
class SimilarityIndexDir:
    """The similarity index of one release: `similarity/<version>/`.

    ```
    rows.parquet       one row per released example: where it came from, a one-line preview
    signatures.npy     its MinHash signatures, row for row (uint32, rows x permutations)
    embeddings.npy     optional: sentence embeddings, row for row (float32, rows x dimensions)
    index.json         the MinHash settings, the fields signed, the release and policy hashes
    memo.json          the code and settings its rows were built with (a later index reuses them)
    ```
    """

    path: Path

    ROWS = "rows.parquet"
    SIGNATURES = "signatures.npy"
    EMBEDDINGS = "embeddings.npy"
    INFO = "index.json"

    @property
    def version(self) -> str:
        """The release the index was built from."""
        return self.path.name

    @property
    def rows(self) -> Path:
        """The indexed rows."""
        return self.path / self.ROWS

    @property
    def signatures(self) -> Path:
        """The signature matrix."""
        return self.path / self.SIGNATURES

    @property
    def embeddings(self) -> Path:
        """The embedding matrix (present when the policy names an embedding model)."""
        return self.path / self.EMBEDDINGS

    @property
    def info(self) -> Path:
        """Settings and hashes."""
        return self.path / self.INFO

    def is_built(self) -> bool:
        """True once the index was published (its folder appears whole)."""
        return self.info.is_file()


@dataclass(frozen=True)
class DataDir:
    """The data dir and every path under it."""

    root: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DataDir:
        """`$BORN_DATA_DIR`, else `./data`, as an absolute path."""
        env = os.environ if environ is None else environ
        return cls(Path(env.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR).resolve())

    @classmethod
    def at(cls, root: str | os.PathLike[str]) -> DataDir:
        """The data dir at `root`, made absolute."""
        return cls(Path(root).resolve())

    # Inputs written by people.
    @property
    def policy(self) -> Path:
        """The curation policy."""
        return self.root / "policy.yaml"

    @property
    def manifests(self) -> Path:
        """One YAML file per lane."""
        return self.root / "manifests"

    @property
    def imports(self) -> Path:
        """One YAML file per import."""
        return self.root / "imports"

    @property
    def evals(self) -> Path:
        """One YAML file per eval set."""
        return self.root / "evals"

    @property
    def erasure_requests(self) -> Path:
        """The erasure requests."""
        return self.root / "erasure" / "requests.yaml"

    @property
    def tombstones(self) -> Path:
        """One row per erased row: hashes and request ids, no content."""
        return self.root / "erasure" / "tombstones.parquet"

    @property
    def review_sheets(self) -> Path:
        """Review sheets written by `born review export`."""
        return self.root / "reviews" / "sheets"

    @property
    def review_records(self) -> Path:
        """Verdicts stored by `born review import`, one file per import."""
        return self.root / "reviews" / "records"

    def attempts(self, lane_id: str) -> Path:
        """A generating lane's ledger of teacher calls: `generation/<lane_id>/attempts.jsonl`.

        It lives outside the lane's output folder so that no ingest glob ever reads it as rows.
        """
        return self.root / "generation" / lane_id / ATTEMPTS

    @property
    def execution_cache(self) -> Path:
        """Test results by (code, tests, environment) hash: `cache/execution/<ab>/<key>.json`."""
        return self.root / "cache" / "execution"

    @property
    def check_cache(self) -> Path:
        """Asset check results by code and input content hash: `cache/checks/<ab>/<key>.json`."""
        return self.root / "cache" / "checks"

    def validated_row_groups(self, check: str) -> Path:
        """Digests of the row groups one row-by-row check saw pass: `cache/row_groups/<check>`."""
        return self.root / "cache" / "row_groups" / plain_name(check, "a check's name")

    @property
    def shard_cache(self) -> Path:
        """Published release shards by their source's key: `cache/shards/<ab>/<key>.json`."""
        return self.root / "cache" / "shards"

    @property
    def text_facts_cache(self) -> Path:
        """Counts over a release shard's texts, by its SHA-256 and the code: `cache/text_facts/`."""
        return self.root / "cache" / "text_facts"

    @property
    def comparison_cache(self) -> Path:
        """Release comparisons by code and both releases' shard hashes: `cache/comparisons/`."""
        return self.root / "cache" / "comparisons"

    # The warehouse.
    @property
    def warehouse(self) -> Path:
        """Asset tables, one folder per asset key."""
        return self.root / "warehouse"

    def asset(self, key_path: Sequence[str]) -> Path:
        """The folder of the asset whose key path is `key_path` (e.g. `["lanes", "x"]`)."""
        return self.warehouse.joinpath(*key_path)

    def stage(self, name: str) -> Path:
        """The folder of a stage's asset (an `Asset` name)."""
        return self.warehouse / name

    def table(self, key_path: Sequence[str], file_name: str) -> Path:
        """One table of an asset."""
        return self.asset(key_path) / file_name

    def source_asset(self, origin_kind: str, origin_id: str) -> Path:
        """The warehouse folder of a lane or an import."""
        return self.asset([SOURCE_GROUPS[origin_kind], origin_id])

    @property
    def warehouse_lock(self) -> Path:
        """The lock every warehouse writer takes (shared for ingest, exclusive otherwise)."""
        return self.warehouse / ".lock"

    def source_lock(self, key_path: Sequence[str]) -> Path:
        """The lock one source's ingest takes, so two runs never ingest it at once."""
        return self.warehouse / ".locks" / ("__".join(key_path) + ".lock")

    @property
    def spill(self) -> Path:
        """Where DuckDB connections spill."""
        return self.warehouse / ".duckdb_spill"

    @property
    def views_database(self) -> Path:
        """The DuckDB file of views over the warehouse and releases."""
        return self.root / "warehouse.duckdb"

    # Releases.
    @property
    def releases(self) -> Path:
        """One folder per release version."""
        return self.root / "releases"

    @property
    def version_ledger(self) -> Path:
        """Every release version ever issued, one JSON line each (never rewritten, never reused)."""
        return self.releases / ".issued_versions.jsonl"

    def release(self, version: str) -> ReleaseDir:
        """The folder of release `version` (published or not).

        Raises:
            OutsideDataDir: `version` is not a plain folder name (`..`, `a/b`, `.hidden`).
        """
        return ReleaseDir(self.releases / plain_name(version, "release version"))

    def published_releases(self) -> list[ReleaseDir]:
        """Published releases (those with a release.json), sorted by name."""
        if not self.releases.is_dir():
            return []
        folders = (ReleaseDir(p) for p in sorted(self.releases.iterdir()))
        return [r for r in folders if not r.path.name.startswith(".") and r.is_published()]

    # Similarity indexes.
    @property
    def similarity_indexes(self) -> Path:
        """One folder per release's similarity index."""
        return self.root / "similarity"

    def similarity_index(self, version: str) -> SimilarityIndexDir:
        """The similarity index of release `version` (built or not)."""
        return SimilarityIndexDir(self.similarity_indexes / plain_name(version, "release version"))

    # Paths named in specs and on the command line.
    def relative(self, path: Path) -> str:
        """`path` relative to the data dir, with forward slashes (how tables record files)."""
        return path.relative_to(self.root).as_posix()

    def inside(self, relative: str | os.PathLike[str], what: str, base: Path | None = None) -> Path:
        """`relative` resolved under `base` (default: the data dir), symlinks followed.

        Raises:
            OutsideDataDir: the path is absolute, climbs out with `..`, or a symlink leads out.
                The message names `what` (e.g. the spec file and field).
        """
        given = Path(relative)
        if given.is_absolute():
            raise OutsideDataDir(what, f"{str(relative)!r} is absolute; write it relative")
        resolved = ((base or self.root) / given).resolve()
        if not resolved.is_relative_to(self.root.resolve()):
            raise OutsideDataDir(
                what, f"{str(relative)!r} resolves outside the data dir ({self.root})"
            )
        return resolved

    def output(self, path: str | os.PathLike[str], what: str) -> Path:
        """`path` (a file or folder to write, from the command line), resolved, symlinks followed.

        A published release is immutable (`born verify` rehashes every file of it), so nothing
        a command writes on request may land in the releases folder.

        Raises:
            InsideReleases: the path lies in the releases folder. The message names `what`.
        """
        resolved = Path(path).resolve()
        if resolved.is_relative_to(self.releases.resolve()):
            raise InsideReleases(
                f"{what}: {str(path)!r} lies in the releases folder ({self.releases}); a "
                "published release is never written to"
            )
        return resolved

    def source_files(self, folder: str, pattern: str) -> list[Path]:
        """A lane's or import's input files (`folder/pattern` under the data dir), sorted.

        Raises:
            OutsideDataDir: the folder, or a file the pattern picks (a symlink), lies outside.
        """
        root = self.inside(folder, "path")
        if not root.is_dir():
            return []
        files = sorted(p for p in (self.root / folder).glob(pattern) if p.is_file())
        for path in files:
            self.inside(path.relative_to(self.root), f"{folder}/{pattern} picks {path.name}")
        return files

    def not_files(self, folder: str, pattern: str) -> list[Path]:
        """What `folder/pattern` picks that `source_files` does not read: not a regular file.

        A link to nothing, a FIFO, a socket, a folder: none holds lines to read (a FIFO is never
        opened, which could wait forever), but whoever put it there is told.
        """
        if not (self.root / folder).is_dir():
            return []
        return sorted(p for p in (self.root / folder).glob(pattern) if not p.is_file())
