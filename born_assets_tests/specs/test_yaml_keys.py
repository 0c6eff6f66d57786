"""A key written twice in a spec is refused, naming the file, the line and the key.

PyYAML keeps the last of two equal keys silently: a manifest that says `license: CC-BY-SA-4.0`
and, further down, `license: MIT` released its rows as MIT, and a second `release:` block in the
policy replaced the first. Every spec and the policy load through `load_yaml`, which refuses it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from born_assets.specs.common import SpecError, StrictModel, load_yaml, parse_spec
from born_assets.specs.policy import Policy, PolicyError
from born_assets_tests.conftest import SAMPLE_DATA


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("a: 1\nb: 2\na: 3\n", 3, "'a'"),
        ("top:\n  x: 1\n  y: 2\n  x: 1\n", 4, "'x'"),
        ("items:\n  - {k: 1, k: 2}\n", 2, "'k'"),
        ("1: one\n1: uno\n", 2, "1"),
    ],
)
def test_a_repeated_key_is_an_error_at_its_line(text: str, line: int, key: str) -> None:
    with pytest.raises(yaml.YAMLError) as raised:
        load_yaml(text.encode())
    error = raised.value
    assert isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None
    assert error.problem_mark.line + 1 == line
    assert str(error.problem).startswith(f"duplicate key {key} (first on line ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\nb: 2\n", {"a": 1, "b": 2}),
        ("1: one\n'1': text\n", {1: "one", "1": "text"}),  # different keys
        ("base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  x: 3\n", {"base": {"x": 1, "y": 2},
                                                           "c": {"x": 3, "y": 2}}),
    ],
)  # fmt: skip
def test_distinct_keys_and_merge_overrides_still_load(text: str, expected: object) -> None:
    assert load_yaml(text.encode()) == expected


class _Spec(StrictModel):
    license: str
    lane_id: str


def test_a_spec_error_names_file_line_and_key(tmp_path: Path) -> None:
    spec = tmp_path / "lane.yaml"
    spec.write_text("lane_id: a\nlicense: CC-BY-SA-4.0\nnotes: x\nlicense: MIT\n")
    error = parse_spec(spec, _Spec)
    assert isinstance(error, SpecError)
    assert str(error) == (
        f"{spec}: line 4: not valid YAML: duplicate key 'license' (first on line 2)"
    )


def test_a_policy_with_a_repeated_block_is_refused(tmp_path: Path) -> None:
    text = (SAMPLE_DATA / "policy.yaml").read_text(encoding="utf-8")
    lines = text.count("\n")
    policy = tmp_path / "policy.yaml"
    policy.write_text(text + "release:\n  dataset_id: other\n", encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        Policy.load(policy)
    message = str(raised.value)
    assert message.startswith(f"{policy}: invalid YAML: line {lines + 1}: duplicate key 'release'")
