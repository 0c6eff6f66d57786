"""JSON inside a record's texts is read as strictly as the record, and to a bounded depth."""

from __future__ import annotations

import json

import pytest

from born_assets.text.json_values import MAX_DEPTH, NotJson, loads, too_deep, values


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"a": NaN}', "unexpected character"),
        ('{"a": -Infinity}', "no digit after sign"),
        ('"\\ud800"', "surrogate"),
        (nested(MAX_DEPTH + 1), f"nested deeper than {MAX_DEPTH} levels"),
        (nested(5000), "depth limit"),
        ("", "empty"),
        ('{"a": 1} tail', "after document"),
    ],
)
def test_what_python_json_would_take_but_a_strict_reader_would_not_is_not_json(
    text: str, why: str
) -> None:
    with pytest.raises(NotJson) as refused:
        loads(text)
    assert why in refused.value.msg
    assert isinstance(refused.value, json.JSONDecodeError)  # callers catch it as any bad JSON


def test_values_at_the_depth_limit_and_key_order_are_kept() -> None:
    assert loads(nested(MAX_DEPTH)) is not None
    assert list(loads('{"b": 1, "a": [true, null, 2.5]}')) == ["b", "a"]


def test_values_written_one_after_another() -> None:
    assert values('{"a": 1}\n{"b": 2}, [3]\n') == [{"a": 1}, {"b": 2}, [3]]
    assert values("") == []
    for body in ('{"a": 1} {"a": NaN}', '{"a": 1} nonsense', nested(5000), '["\\udc00"]'):
        assert values(body) is None


def test_depth_is_walked_only_when_the_brackets_could_reach_it() -> None:
    code = json.dumps({"code": "x = [[[[]]]]" * 100})  # brackets inside a string
    assert not too_deep(json.loads(code), code)
    deep = nested(MAX_DEPTH + 1)
    assert too_deep(json.loads(deep), deep)
    assert not too_deep("plain", "[" * 500)
