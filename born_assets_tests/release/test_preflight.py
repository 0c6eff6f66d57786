"""A release is refused before anything is built when a later step of it could not finish."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from born_assets.layout import DataDir
from born_assets.release.preflight import release_preflight
from born_assets.specs.policy import Policy, PolicyError
from born_assets.text.embedding import MODEL_NAME


def name_model(data_dir: Path, model: str) -> None:
    policy = data_dir / "policy.yaml"
    text = policy.read_text()
    assert "  embedding_model: null\n" in text
    policy.write_text(text.replace("  embedding_model: null\n", f"  embedding_model: {model}\n"))


def test_an_embedding_model_not_offered_is_refused_naming_the_key(data_dir: Path) -> None:
    name_model(data_dir, "bert-base-uncased")
    with pytest.raises(PolicyError, match=r"similarity\.embedding_model.*all-MiniLM-L6-v2"):
        Policy.load(data_dir / "policy.yaml")
    (problem,) = release_preflight(DataDir.at(data_dir))
    assert "similarity.embedding_model" in problem


def test_the_offered_model_without_its_extra_is_refused_before_the_build(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name_model(data_dir, MODEL_NAME)
    assert release_preflight(DataDir.at(data_dir)) == []  # the extra is installed here
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(  # as on a machine where `pip install -e .` left the extra out
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "sentence_transformers" else find_spec(name, *args),
    )
    assert release_preflight(DataDir.at(data_dir)) == [
        "policy.yaml: similarity.embedding_model: No module named 'sentence_transformers': "
        "install the embedding extra: pip install -e '.[embedding]' (make dev does)"
    ]
