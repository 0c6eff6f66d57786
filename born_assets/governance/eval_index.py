"""The eval side of the contamination checks, built once: digests, n-grams, task ids, models.

`EvalIndex` turns the loaded eval sets into lookups: every indexed text (one field of one item)
gets a key, in eval-id order, then item order in the eval file, then `text_fields` order; that
order breaks ties between matches. The exact check looks up `exact_digest`s of normalized texts,
the n-gram check the `NgramIndex` of those texts, the task-id check the (family, task id) names
of every item (`EvalSet.task_keys`), and the generator check the eval sets' generator models
(compared by `model_key`: stripped and casefolded, so `GPT-5-mini` is `gpt-5-mini`; versions
are not compared).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from born_assets.governance.ngrams import NgramIndex
from born_assets.schemas.vocabulary import ContaminationMethod
from born_assets.specs.evals import EvalSet
from born_assets.text.words import normalize_text

_RANK = {method: rank for rank, method in enumerate(ContaminationMethod)}


def exact_digest(normalized: str) -> bytes | None:
    """BLAKE2b-128 of a normalized text (`normalize_text`); None for the empty text."""
    if not normalized:
        return None
    return hashlib.blake2b(normalized.encode("utf-8"), digest_size=16).digest()


def model_key(model: str | None) -> str | None:
    """A generator model name as compared: casefolded, stripped; None when empty."""
    key = (model or "").strip().casefold()
    return key or None


@dataclass(frozen=True)
class EvalText:
    """One indexed text (a field of an eval item), or an item named by a task id (no field)."""

    eval_order: int
    text_order: int
    eval_id: str
    item_id: str
    field: str | None


@dataclass(frozen=True, order=True)
class Match:
    """One way a row matched an eval item; sorting puts the deciding match first."""

    sort_key: tuple[int, float, int, int]
    eval_id: str = field(compare=False)
    eval_item_id: str = field(compare=False)
    eval_field: str | None = field(compare=False)
    method: ContaminationMethod = field(compare=False)
    overlap_fraction: float | None = field(compare=False)

    @classmethod
    def of(cls, text: EvalText, method: ContaminationMethod, overlap: float | None) -> Match:
        """The match of `text` by `method`: method rank, overlap, eval set, item and field."""
        strength = overlap if overlap is not None else 1.0
        key = (_RANK[method], -strength, text.eval_order, text.text_order)
        return cls(key, text.eval_id, text.item_id, text.field, method, overlap)


class EvalIndex:
    """What the checks need from the eval sets, built once: digests, n-grams, task ids, models."""

    def __init__(self, eval_sets: Sequence[EvalSet], ngram_size: int) -> None:
        self.eval_sets = sorted(eval_sets, key=lambda s: s.eval_id)
        self.texts: list[EvalText] = []
        self.raw_texts: list[str] = []  # as written, row for row with `texts`
        normalized: list[str] = []
        self.exact: dict[bytes, list[int]] = {}
        self.tasks: dict[tuple[str, str], list[EvalText]] = {}
        self.generators: dict[str, list[str]] = {}
        for eval_order, eval_set in enumerate(self.eval_sets):
            self._add(eval_order, eval_set, normalized)
        self.ngrams = NgramIndex(normalized, ngram_size)

    def _add(self, eval_order: int, eval_set: EvalSet, normalized: list[str]) -> None:
        first_text: list[int] = []
        for item in eval_set.items:
            first_text.append(len(self.texts))
            for name, text in zip(eval_set.spec.text_fields, item.texts, strict=True):
                key = len(self.texts)
                self.texts.append(EvalText(eval_order, key, eval_set.eval_id, item.item_id, name))
                self.raw_texts.append(text)
                normalized.append(normalize_text(text))
                digest = exact_digest(normalized[-1])
                if digest is not None:
                    self.exact.setdefault(digest, []).append(key)
        for family, task_id, item_index in eval_set.task_keys():
            item_id = eval_set.items[item_index].item_id
            named = EvalText(eval_order, first_text[item_index], eval_set.eval_id, item_id, None)
            self.tasks.setdefault((family, task_id), []).append(named)
        model = model_key(eval_set.spec.generator_model)
        if model is not None:
            self.generators.setdefault(model, []).append(eval_set.eval_id)
