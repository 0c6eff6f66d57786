"""The policy file decides every fate, so a bad value must stop the run with the exact key.

These tests pin the error messages (file + dotted key + rule), the content hash recorded in
releases, and the way per-family length bounds fall back to `default`.
"""

import copy
import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from born_assets.schemas.reasons import GateName, GateReason, Severity
from born_assets.schemas.vocabulary import RowKind
from born_assets.specs.curation_policy import DedupKey, ScanTarget, SortDirection
from born_assets.specs.policy import Policy, PolicyError
from born_assets.text.closure import Section
from born_assets_tests.conftest import SAMPLE_DATA

POLICY_PATH = SAMPLE_DATA / "policy.yaml"
FAMILIES = ("mbpp_plus", "humaneval", "ds1000", "bigcodebench", "swebench_lite")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return yaml.safe_load(POLICY_PATH.read_text())


def _write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_repo_policy_loads_with_every_family() -> None:
    policy = Policy.load(POLICY_PATH)
    assert set(policy.gates.length.families) == set(FAMILIES)
    assert policy.gates.severity == dict.fromkeys(GateName, Severity.HARD)
    assert [str(key) for key in policy.dedup.survivor_order] == [
        "curation_score desc",
        "lane_priority asc",
        "generation_timestamp asc",
        "example_id asc",
    ]


def test_content_hash_is_sha256_of_file_bytes(tmp_path: Path, document: dict[str, Any]) -> None:
    path = _write(tmp_path, document)
    assert Policy.load(path).content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (
        Policy.load(POLICY_PATH).content_hash
        == hashlib.sha256(POLICY_PATH.read_bytes()).hexdigest()
    )


def test_content_hash_changes_with_any_byte(tmp_path: Path, document: dict[str, Any]) -> None:
    path = _write(tmp_path, document)
    before = Policy.load(path).content_hash
    path.write_text(path.read_text() + "# a comment changes the release hash too\n")
    assert Policy.load(path).content_hash != before


def test_in_memory_policy_hashes_canonical_json() -> None:
    policy = Policy.load(POLICY_PATH)
    rebuilt = Policy.model_validate(policy.model_dump())
    assert rebuilt.content_hash == Policy.model_validate(policy.model_dump()).content_hash
    assert rebuilt.content_hash != policy.content_hash


def _set(path: str, value: Any) -> Any:
    def mutate(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = document
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is _DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


_DELETE = object()

ERROR_CASES = [
    ("gates.length.default.max_response_chars", 0,
     "gates.length.default.max_response_chars: must be > 0"),
    ("gates.length.default.min_prompt_chars", -1,
     "gates.length.default.min_prompt_chars: must be >= 0"),
    ("gates.length.default.max_response_chars", _DELETE,
     "gates.length.default.max_response_chars: required"),
    ("gates.length.default.max_response_chars", "60000",
     "gates.length.default.max_response_chars: must be a valid integer"),
    ("gates.length.mbpp_plus.min_response_chars", 50000,
     "gates.length.mbpp_plus.min_response_chars: must be <= max_response_chars (50000 > 20000)"),
    ("gates.length.mbpp_plus.max_respons_chars", 5,
     "gates.length.mbpp_plus.max_respons_chars: unknown key"),
    ("gates.length.humaneval", 5, "gates.length.humaneval: must be a mapping"),
    ("gates.severity.format", _DELETE, "gates.severity.format: required"),
    ("gates.severity.format", "medium", "gates.severity.format: must be 'hard' or 'soft'"),
    ("gates.kinds.code_task.required_sections", ["code", "appendix"],
     "gates.kinds.code_task.required_sections[1]: must be 'plan', 'code', 'checks' or 'result'"),
    ("gates.kinds.chat", _DELETE, "gates.kinds.chat: required"),
    ("gates.kinds.chat.families", ["x"],
     "gates.kinds.chat.families: only code_task names families"),
    ("gates.kinds.tool_use.reason_severity.refusal", "mild",
     "gates.kinds.tool_use.reason_severity.refusal: must be 'hard' or 'soft'"),
    ("gates.severity.tool_use", _DELETE, "gates.severity.tool_use: required"),
    ("closure.max_output_chars", 0, "closure.max_output_chars: must be > 0"),
    ("gates.format.placeholder_patterns.0.pattern", "(unclosed",
     "gates.format.placeholder_patterns[0].pattern: not a valid regex: "
     "missing ), unterminated subpattern at position 0"),
    ("gates.format.placeholder_patterns.0.pattern", "x*",
     "gates.format.placeholder_patterns[0].pattern: must not match the empty string"),
    ("gates.format.placeholder_patterns.0.targets", [],
     "gates.format.placeholder_patterns[0].targets: must have at least 1 item(s)"),
    ("gates.format.truncation.token_limits", [0],
     "gates.format.truncation.token_limits[0]: must be > 0"),
    ("gates.format.truncation.token_limit_tolerance", 0.9,
     "gates.format.truncation.token_limit_tolerance: must be <= 0.5"),
    ("score.soft_failure_factor", 1.5, "score.soft_failure_factor: must be <= 1"),
    ("score.section_weights.plan", _DELETE, "score.section_weights.plan: required"),
    ("score.section_weights", {"plan": 0, "code": 0, "checks": 0, "result": 0},
     "score.section_weights: weights must sum to > 0"),
    ("dedup.survivor_order", ["curation_score desc", "foo asc", "example_id"],
     "dedup.survivor_order[1].key: must be 'curation_score', 'lane_priority', "
     "'generation_timestamp' or 'example_id'"),
    ("dedup.survivor_order", ["curation_score sideways", "example_id"],
     "dedup.survivor_order[0].direction: must be 'asc' or 'desc'"),
    ("dedup.survivor_order", ["example_id", "curation_score desc"],
     "dedup.survivor_order: must end with 'example_id' (the unique tie-breaker that makes "
     "survivors independent of input order)"),
    ("dedup.survivor_order", ["curation_score desc", "curation_score asc", "example_id"],
     "dedup.survivor_order[1]: key 'curation_score' listed twice"),
    ("dedup.lane_priority", {"lane_a": "first"},
     "dedup.lane_priority.lane_a: must be a valid integer"),
    ("version", 2, "version: must be 1"),
    ("surprise", True, "surprise: unknown key"),
    # Each limit reaches setrlimit or a tmpfs size: one the kernel cannot take would fail every
    # sandboxed run (and every row of a `require_tests: pass` family), so it is refused here.
    ("execution.limits.memory_mb", 99999999999999,
     "execution.limits.memory_mb: must be <= 1048576"),
    ("execution.limits.file_size_mb", 10**12, "execution.limits.file_size_mb: must be <= 65536"),
    ("execution.limits.tmp_mb", 10**12, "execution.limits.tmp_mb: must be <= 65536"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "value", "expected"), ERROR_CASES)
def test_bad_value_names_file_and_key(
    tmp_path: Path, document: dict[str, Any], path: str, value: Any, expected: str
) -> None:
    changed = copy.deepcopy(document)
    _set(path, value)(changed)
    policy_file = _write(tmp_path, changed)
    with pytest.raises(PolicyError) as raised:
        Policy.load(policy_file)
    assert str(raised.value) == f"{policy_file}: {expected}"


def test_reason_severity_rejects_unknown_reason(document: dict[str, Any]) -> None:
    changed = copy.deepcopy(document)
    changed["gates"]["reason_severity"] = {"bogus": "soft"}
    with pytest.raises(PolicyError) as raised:
        Policy.from_yaml(yaml.safe_dump(changed), source="data/policy.yaml")
    assert str(raised.value).startswith("data/policy.yaml: gates.reason_severity.bogus: must be ")


def test_every_problem_is_reported(document: dict[str, Any]) -> None:
    changed = copy.deepcopy(document)
    changed["score"]["soft_failure_factor"] = -1
    changed["dedup"]["default_lane_priority"] = "x"
    with pytest.raises(PolicyError) as raised:
        Policy.from_yaml(yaml.safe_dump(changed), source="p.yaml")
    assert raised.value.problems == [
        ("score.soft_failure_factor", "must be >= 0"),
        ("dedup.default_lane_priority", "must be a valid integer"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: [", "p.yaml: invalid YAML"),
        ("- 1\n- 2\n", "p.yaml: must be a YAML mapping"),
        ("", "p.yaml: must be a YAML mapping"),
    ],
)
def test_unreadable_documents(text: str, expected: str) -> None:
    with pytest.raises(PolicyError) as raised:
        Policy.from_yaml(text, source="p.yaml")
    assert str(raised.value).startswith(expected)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read: No such file or directory"):
        Policy.load(tmp_path / "absent.yaml")


def test_family_bounds_fall_back_to_default() -> None:
    length = Policy.load(POLICY_PATH).gates.length
    mbpp = length.resolve("mbpp_plus")
    assert mbpp.family == "mbpp_plus"
    assert mbpp.values["max_response_chars"] == 20000
    assert mbpp.keys["max_response_chars"] == "gates.length.mbpp_plus.max_response_chars"
    assert mbpp.values["min_response_chars"] == length.default.min_response_chars
    assert mbpp.keys["min_response_chars"] == "gates.length.default.min_response_chars"
    assert mbpp.threshold("max_response_chars") == "gates.length.mbpp_plus.max_response_chars=20000"
    for family in (None, "unknown_family"):
        fallback = length.resolve(family)
        assert fallback.family == "default"
        assert set(fallback.keys.values()) == {
            f"gates.length.default.{name}" for name in fallback.keys
        }


def test_severity_of_uses_override_then_gate() -> None:
    gates = Policy.load(POLICY_PATH).gates
    assert gates.severity_of(GateReason.TRUNCATED_AT_LIMIT) is Severity.SOFT
    assert gates.severity_of(GateReason.TRUNCATED_IN_CODE_FENCE) is Severity.HARD
    assert gates.severity_of(GateReason.PYTHON_SYNTAX_ERROR) is Severity.HARD
    # A row kind overrides again: an agent declining against its policy only loses score.
    assert gates.severity_of(GateReason.REFUSAL) is Severity.HARD
    assert gates.severity_of(GateReason.REFUSAL, RowKind.TOOL_USE) is Severity.SOFT
    assert gates.severity_of(GateReason.REFUSAL, RowKind.CHAT) is Severity.HARD


def test_kind_of_a_row_and_its_length_bounds() -> None:
    """A tool-using row is tool_use whatever its family; lengths: family, kind, then default."""
    gates = Policy.load(POLICY_PATH).gates
    assert gates.kind_of("mbpp_plus", uses_tools=True) is RowKind.TOOL_USE
    assert gates.kind_of("mbpp_plus", uses_tools=False) is RowKind.CODE_TASK
    assert gates.kind_of("fastchat_identity", uses_tools=False) is RowKind.CHAT
    kind = ("gates.kinds.tool_use.length", gates.kinds[RowKind.TOOL_USE].length)
    bounds = gates.length.resolve("tau_bench_airline", kind)
    assert bounds.threshold("max_response_chars") == (
        "gates.kinds.tool_use.length.max_response_chars=200000"
    )
    assert bounds.threshold("min_prompt_chars") == "gates.length.default.min_prompt_chars=20"
    own = gates.length.resolve("swebench_lite", kind)
    assert own.threshold("max_prompt_chars") == "gates.length.swebench_lite.max_prompt_chars=400000"


def test_parsed_vocabularies_are_enums() -> None:
    policy = Policy.load(POLICY_PATH)
    assert policy.gates.kinds[RowKind.CODE_TASK].required_sections == (Section.CODE,)
    assert all(
        isinstance(target, ScanTarget)
        for item in policy.gates.format.placeholder_patterns
        for target in item.targets
    )
    first = policy.dedup.survivor_order[0]
    assert (first.key, first.direction) == (DedupKey.CURATION_SCORE, SortDirection.DESC)


def test_survivor_key_defaults_to_ascending(document: dict[str, Any]) -> None:
    changed = copy.deepcopy(document)
    changed["dedup"]["survivor_order"] = ["generation_timestamp", "example_id"]
    policy = Policy.from_yaml(yaml.safe_dump(changed))
    assert [str(key) for key in policy.dedup.survivor_order] == [
        "generation_timestamp asc",
        "example_id asc",
    ]


def test_policy_is_immutable() -> None:
    policy = Policy.load(POLICY_PATH)
    with pytest.raises(ValueError, match="frozen"):
        policy.version = 1  # type: ignore[misc]
