"""`similarity` and `near_dedup` in the policy file: how rows are signed, and when two are one.

`similarity` fixes the MinHash (LSH bands x rows per band, seed) shared by near-dedup, the
similarity index and the contamination similarity check, and the shingle size of the last two
(retrieval: short shingles survive paraphrase); `near_dedup` has its own shingle size (long
shingles: a duplicate, not a topic), the texts it compares and the estimated Jaccard similarity
from which a row is a near duplicate of a better-ranked one. `born_assets.text.minhash` signs,
`curation.near_dedup` decides.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

import pyarrow as pa
from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from born_assets.specs.common import StrictModel, key_error
from born_assets.text.dialogue import dialogue_text
from born_assets.text.embedding import MODEL_NAME
from born_assets.text.minhash import MinHashParams

MAX_PERMUTATIONS = 1024


class TextField(StrEnum):
    """The texts of a row that similarity can compare.

    `prompt` and `response` are the columns of those names (the response in closure form);
    `dialogue` is the row's `messages` without system turns (`text.dialogue`).
    """

    PROMPT = "prompt"
    RESPONSE = "response"
    DIALOGUE = "dialogue"

    @property
    def column(self) -> str:
        """The column the text is read from."""
        return "messages" if self is TextField.DIALOGUE else self.value


def field_texts(batch: pa.RecordBatch, field: TextField) -> list[str]:
    """The `field` text of each row of `batch` ("" where it has none)."""
    values = batch.column(field.column).to_pylist()
    if field is TextField.DIALOGUE:
        return [dialogue_text(messages) for messages in values]
    return [text or "" for text in values]


def _distinct(value: tuple[TextField, ...]) -> tuple[TextField, ...]:
    if len(set(value)) != len(value):
        raise PydanticCustomError("policy_key", "a field is listed twice")
    return value


Fields = Annotated[tuple[TextField, ...], Field(min_length=1)]


class SimilarityPolicy(StrictModel):
    """`similarity`: the MinHash every similarity in born_assets uses, and what the index holds.

    `embedding_model` (optional, the `embedding` extra) adds sentence embeddings of the same
    texts to each release's index, for `born similar --method embedding`.
    """

    shingle_words: Annotated[int, Field(strict=True, ge=1, le=32)] = 2
    bands: Annotated[int, Field(strict=True, ge=1)] = 14
    rows_per_band: Annotated[int, Field(strict=True, ge=1)] = 8
    seed: Annotated[int, Field(strict=True, ge=0, lt=2**32)] = 1
    index_fields: Fields = (TextField.PROMPT,)
    embedding_model: str | None = None

    _distinct_fields = field_validator("index_fields")(_distinct)

    @field_validator("embedding_model")
    @classmethod
    def _offered(cls, value: str | None) -> str | None:
        if value is not None and value != MODEL_NAME:
            raise PydanticCustomError("policy_key", f"the one model offered is {MODEL_NAME}")
        return value

    @model_validator(mode="after")
    def _few_permutations(self) -> Self:
        if self.num_perm > MAX_PERMUTATIONS:
            raise key_error("rows_per_band", f"bands x rows_per_band must be <= {MAX_PERMUTATIONS}")
        return self

    @property
    def num_perm(self) -> int:
        """Signature length: bands x rows per band."""
        return self.bands * self.rows_per_band

    @property
    def params(self) -> MinHashParams:
        """The settings `text.minhash.sign` takes for the index and contamination."""
        return MinHashParams(self.shingle_words, self.num_perm, self.seed)

    def with_shingles(self, shingle_words: int) -> MinHashParams:
        """The same MinHash over shingles of another size (near-dedup's)."""
        return MinHashParams(shingle_words, self.num_perm, self.seed)

    @property
    def candidate_similarity(self) -> float:
        """Where the LSH S-curve crosses 1/2: (1/bands)^(1/rows_per_band)."""
        return float((1 / self.bands) ** (1 / self.rows_per_band))


class NearDedupPolicy(StrictModel):
    """`near_dedup`: which texts are compared and the similarity that makes a near duplicate."""

    enabled: bool = True
    shingle_words: Annotated[int, Field(strict=True, ge=1, le=32)] = 5
    fields: Fields = (TextField.DIALOGUE,)
    threshold: Annotated[float, Field(gt=0, le=1)] = 0.8
    distinct_task_ids: bool = True

    _distinct_fields = field_validator("fields")(_distinct)
