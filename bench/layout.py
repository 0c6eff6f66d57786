"""The shape of a synthetic corpus: its lanes and import, and the spec files the graph reads.

A corpus is `rows` input lines spread over five synthetic teacher lanes and one small
prompt/response import, laid out as a data dir (manifests, task lists, a prompt template, the
import spec, `policy.yaml` copied from the repository) so `born_assets` runs on it unchanged.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_POLICY = Path(__file__).resolve().parents[1] / "data" / "policy.yaml"
TASKS_PER_LANE = 2_000
TEMPLATE_ID = "bench-task-v1"
TEMPLATE_PATH = "prompt_templates/bench-task-v1.txt"
IMPORT_ID = "bench-pairs"
IMPORT_FAMILY = "bench_pairs"
IMPORT_MODEL = "llama-3.3-70b-instruct"


@dataclass(frozen=True)
class LaneDef:
    """One synthetic teacher lane: id, benchmark family, teacher, share of the corpus."""

    lane_id: str
    family: str
    model: str
    version: str
    share: float

    @property
    def task_prefix(self) -> str:
        """Task ids are `<prefix>/<n>`."""
        return f"Bench{self.family.replace('_', '').capitalize()}"


LANES = (
    LaneDef("bench-mbpp-gpt-4o", "mbpp_plus", "gpt-4o", "gpt-4o-2024-08-06", 0.30),
    LaneDef(
        "bench-humaneval-claude",
        "humaneval",
        "claude-3-5-sonnet",
        "claude-3-5-sonnet-20241022",
        0.15,
    ),
    LaneDef("bench-ds1000-r1", "ds1000", "deepseek-r1", "deepseek-r1-0528", 0.20),
    LaneDef(
        "bench-bigcodebench-qwen",
        "bigcodebench",
        "qwen2.5-coder-32b-instruct",
        "qwen2.5-coder-32b-instruct-2024-11",
        0.18,
    ),
    LaneDef(
        "bench-general-gpt-5-mini", "general_code", "gpt-5-mini", "gpt-5-mini-2025-08-07", 0.15
    ),
)
IMPORT_SHARE = 0.02


@dataclass(frozen=True)
class CorpusSpec:
    """What to generate. The same spec gives the same bytes."""

    rows: int
    seed: int = 20_260_101
    rows_per_file: int = 50_000
    bad_share: float = 0.001  # malformed lines, spread evenly over every quarantine kind
    duplicate_share: float = 0.10  # rows whose prompt repeats a row of another lane
    think_share: float = 0.5  # responses with a <think> block...
    unclosed_share: float = 0.2  # ...of which this share is left unclosed after the answer
    syntax_error_share: float = 0.02  # python block that does not parse (gated out)
    open_fence_share: float = 0.005  # cut off inside the code fence (gated out)
    refusal_share: float = 0.005  # refusal boilerplate in the prose (gated out)

    def lane_rows(self) -> dict[str, int]:
        """Input lines per lane and for the import (the import takes the remainder)."""
        counts = {lane.lane_id: int(self.rows * lane.share) for lane in LANES}
        counts[IMPORT_ID] = self.rows - sum(counts.values())
        return counts

    def files(self, source: str) -> list[tuple[int, int]]:
        """(first row, row count) of each file of a lane or the import, in file order."""
        total = self.lane_rows()[source]
        return [
            (start, min(self.rows_per_file, total - start))
            for start in range(0, total, self.rows_per_file)
        ]


def lane_folder(lane_id: str) -> str:
    """Where a lane's JSONL files live, relative to the data dir."""
    return f"lanes/{lane_id}"


IMPORT_FOLDER = f"traces/{IMPORT_ID}"


def _manifest(lane: LaneDef) -> dict[str, object]:
    return {
        "lane_id": lane.lane_id,
        "description": f"Synthetic {lane.family} answers by {lane.model} (benchmark corpus).",
        "owner": "team:data-eng",
        "benchmark_family": lane.family,
        "teacher": {"model": lane.model, "version": lane.version},
        "source_type": "synthetic",
        "tasks": {"file": f"tasks/{lane.lane_id}.txt"},
        "prompt_template": {"id": TEMPLATE_ID, "path": TEMPLATE_PATH},
        "sampling_params": {"temperature": 0.2, "top_p": 0.95, "max_tokens": 4096},
        "intended_use": "train",
        "prohibited_use": ["eval"],
        "eval_exclusion": True,
        "license": "Apache-2.0",
        "consent_basis": "synthetic benchmark data generated for born_assets",
        "output": {"path": lane_folder(lane.lane_id), "glob": "*.jsonl"},
    }


def _import_spec() -> dict[str, object]:
    return {
        "import_id": IMPORT_ID,
        "name": "Synthetic prompt/response pairs (benchmark corpus)",
        "description": "Prompt/response pairs in the import path, to measure it and its refusals.",
        "owner": "team:data-eng",
        "source_url": "https://example.org/born-assets/bench-pairs",
        "license": "CC-BY-4.0",
        "consent_basis": "synthetic benchmark data generated for born_assets",
        "format": "prompt_response",
        "fields": {
            "id_field": "id",
            "prompt_field": "prompt",
            "response_field": "response",
            "model_field": "model",
            "timestamp_field": "created",
        },
        "dataset_family": IMPORT_FAMILY,
        "source_type": "synthetic",
        "generator": {"model": IMPORT_MODEL},
        "intended_use": "train",
        "prohibited_use": [],
        "files": {"path": IMPORT_FOLDER, "glob": "*.jsonl"},
    }


def _yaml(path: Path, document: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def task_ids(lane: LaneDef) -> list[str]:
    """The task ids assigned to a lane."""
    return [f"{lane.task_prefix}/{k}" for k in range(TASKS_PER_LANE)]


def write_specs(data_dir: Path) -> None:
    """Manifests, task lists, the prompt template, the import spec and the policy."""
    for lane in LANES:
        _yaml(data_dir / "manifests" / f"{lane.lane_id}.yaml", _manifest(lane))
        tasks = data_dir / "tasks" / f"{lane.lane_id}.txt"
        tasks.parent.mkdir(parents=True, exist_ok=True)
        tasks.write_text(f"# tasks of {lane.lane_id}\n" + "\n".join(task_ids(lane)) + "\n")
    template = data_dir / TEMPLATE_PATH
    template.parent.mkdir(parents=True, exist_ok=True)
    template.write_text("{task}\n", encoding="utf-8")
    _yaml(data_dir / "imports" / f"{IMPORT_ID}.yaml", _import_spec())
    shutil.copyfile(REPO_POLICY, data_dir / "policy.yaml")
