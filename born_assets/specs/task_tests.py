"""A lane's task tests: the `tests:` block of a manifest, and the test records it names.

```yaml
tests:
  harness: humaneval                  # how the tests run: humaneval | evalplus | mbpp |
                                      #   bigcodebench | ds1000 | swebench
  file: tasks/humaneval.tests.jsonl   # JSONL, one task per line (default: tasks.file, if JSONL)
  id_field: task_id                   # dotted field holding the task id (default: tasks.id_field,
                                      #   else task_id)
```

Records are read with the standard `json` module (test inputs hold integers wider than 64 bits).
Every record is read and checked when the manifest loads: a line that is not a JSON object, a
missing id, or a field the harness needs that is missing or of the wrong type is a `SpecError`
naming the manifest, `tests.file`, the test file's line and the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from born_assets.layout import DataDir
from born_assets.schemas.identity import sha256_hex
from born_assets.specs.common import SpecFieldError, StrictModel, resolve_file


class Harness(StrEnum):
    """How a benchmark family's tests run (one harness per family of test formats)."""

    HUMANEVAL = "humaneval"  # `test` defines check(candidate); prompt + entry_point
    EVALPLUS = "evalplus"  # HumanEval+ / MBPP+: inputs, compared with the ground truth's outputs
    MBPP = "mbpp"  # `test_list` asserts after `test_setup_code`
    BIGCODEBENCH = "bigcodebench"  # `test` is a unittest TestCases class
    DS1000 = "ds1000"  # `code_context` with test_execution(solution)
    SWEBENCH = "swebench"  # a patch against a repository: needs a checkout and containers


_STR, _LIST, _NUMBER = (str,), (list,), (int, float)
REQUIRED_FIELDS: dict[Harness, dict[str, tuple[type, ...]]] = {
    Harness.HUMANEVAL: {"prompt": _STR, "entry_point": _STR, "test": _STR},
    Harness.EVALPLUS: {"entry_point": _STR, "canonical_solution": _STR, "base_input": _LIST},
    Harness.MBPP: {"test_list": _LIST},
    Harness.BIGCODEBENCH: {"test": _STR, "entry_point": _STR, "code_prompt": _STR},
    Harness.DS1000: {"code_context": _STR},
    Harness.SWEBENCH: {"repo": _STR, "base_commit": _STR, "FAIL_TO_PASS": _STR},
}
"""Fields each harness needs in every record, with their JSON types."""

OPTIONAL_FIELDS: dict[Harness, dict[str, tuple[type, ...]]] = {
    Harness.EVALPLUS: {"plus_input": _LIST, "atol": _NUMBER, "prompt": _STR, "assertion": _STR},
    Harness.MBPP: {"test_setup_code": _STR},
}
"""Fields a harness uses when a record has them (typed when present)."""


class TestsSpec(StrictModel):
    """The `tests:` block of a lane manifest."""

    harness: Harness
    file: str | None = None
    id_field: str | None = None


@dataclass(frozen=True)
class LoadedTests:
    """A lane's test records by task id, and what identifies them."""

    harness: Harness
    path: Path
    records: dict[str, dict[str, Any]]
    file_sha256: str

    def record_sha256(self, task_id: str) -> str:
        """SHA-256 of the harness name and one task's record (canonical JSON)."""
        keyed = json.dumps([self.harness.value, self.records[task_id]], sort_keys=True)
        return sha256_hex(keyed.encode("utf-8"))


def load_tests(
    spec: TestsSpec, task_file: str | None, task_id_field: str | None, spec_dir: Path, data: DataDir
) -> LoadedTests:
    """Read and check every test record the spec names.

    Raises:
        SpecFieldError: The file is missing or a record is unusable; the message names the line
            and the field.
    """
    relative = spec.file or (task_file if (task_file or "").endswith(".jsonl") else None)
    if relative is None:
        raise SpecFieldError("tests.file", "required unless tasks.file is a JSONL task file")
    path = resolve_file(relative, spec_dir, data, "tests.file")
    id_field = spec.id_field or task_id_field or "task_id"
    raw = path.read_bytes()
    records: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        task_id, record = _record(line, id_field, spec.harness, f"{path.name} line {number}")
        if task_id in records:
            raise SpecFieldError("tests.file", f"{path.name} line {number}: task {task_id} again")
        records[task_id] = record
    if not records:
        raise SpecFieldError("tests.file", f"{path.name} holds no test records")
    return LoadedTests(spec.harness, path, records, sha256_hex(raw))


def _record(line: bytes, id_field: str, harness: Harness, where: str) -> tuple[str, dict[str, Any]]:
    try:
        record = json.loads(line)
    except ValueError as error:
        raise SpecFieldError("tests.file", f"{where}: not JSON ({error})") from error
    if not isinstance(record, dict):
        raise SpecFieldError("tests.file", f"{where}: not a JSON object")
    value: Any = record
    for part in id_field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise SpecFieldError("tests.id_field", f"{where}: no task id in field {id_field!r}")
    for name, types in REQUIRED_FIELDS[harness].items():
        _check_field(record, name, types, where, harness, required=True)
    for name, types in OPTIONAL_FIELDS.get(harness, {}).items():
        _check_field(record, name, types, where, harness, required=False)
    return str(value), record


def _check_field(
    record: dict[str, Any],
    name: str,
    types: tuple[type, ...],
    where: str,
    harness: Harness,
    required: bool,
) -> None:
    if name not in record:
        if required:
            raise SpecFieldError("tests.file", f"{where}: field {name!r} missing ({harness})")
        return
    value = record[name]
    if not isinstance(value, types) or isinstance(value, bool):
        kinds = " or ".join(t.__name__ for t in types)
        raise SpecFieldError("tests.file", f"{where}: field {name!r} must be {kinds} ({harness})")
