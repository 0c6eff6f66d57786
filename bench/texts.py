"""Seeded text that reads like teacher output: task prompts and responses.

Responses have a prose plan, a fenced Python block (helpers, a main function, asserts), a result
sentence, and optional `<think>` reasoning. Everything comes from a `random.Random` the caller
seeds, so the same seed gives the same text; identifiers and numbers vary per row, so no two
rows share a response.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

NOUNS = (
    "item", "value", "record", "token", "node", "edge", "window", "bucket", "segment", "entry",
    "price", "score", "label", "interval", "matrix", "vector", "digit", "word", "pair", "key",
    "row", "column", "grid", "path", "span", "weight", "count", "sample", "batch", "queue",
)  # fmt: skip
VERBS = (
    "count", "merge", "filter", "rank", "split", "group", "sum", "find", "sort", "scale",
    "encode", "decode", "rotate", "flatten", "collect", "match", "trim", "order", "pick", "join",
)  # fmt: skip
ADJECTIVES = (
    "even", "odd", "unique", "nested", "sorted", "empty", "largest", "smallest", "distinct",
    "shared", "missing", "valid", "prime", "adjacent", "repeated", "balanced", "negative",
)  # fmt: skip
PLAN_SENTENCES = (
    "We walk over the {noun}s once and keep a running {adj} {noun2}.",
    "A dictionary from {noun} to {noun2} makes each lookup constant time.",
    "The input may be empty, so `{fn}` returns early in that case.",
    "Sorting first lets us {verb} adjacent {noun}s in a single pass.",
    "Each helper does one job, which keeps `{fn}` short and easy to test.",
    "Edge cases are a single {noun}, repeated {noun2}s and negative numbers.",
    "The overall cost is O(n log n) because of the sort; memory stays O(n).",
    "We {verb} the {adj} {noun}s first and only then build the result.",
    "Instead of nested loops we keep the last {noun2} seen for every {noun}.",
    "Using a set for the {adj} {noun}s avoids counting any of them twice.",
)
THINK_SENTENCES = (
    "The user wants to {verb} the {adj} {noun}s; let me restate that carefully.",
    "Hmm, what happens when the list of {noun}s is empty?",
    "Maybe a dictionary keyed by {noun} is enough here.",
    "Wait, the {noun2}s can repeat, so a plain set would lose information.",
    "Let me trace a small example: three {noun}s, two of them {adj}.",
    "I could sort first, but that changes the order of the {noun2}s.",
    "Actually the simpler loop is fine and the tests only need the count.",
    "Should `{fn}` mutate its argument? Better not.",
)
RESULT_SENTENCES = (
    "`{fn}` returns the {adj} {noun}s in input order and passes every check above.",
    "The function handles empty input and repeated {noun}s, as the asserts show.",
    "This solution runs in linear time apart from the sort and uses O(n) extra memory.",
    "All assertions pass, so `{fn}` behaves as the task asks.",
)
PROMPT_SENTENCES = (
    "The {noun}s arrive as a list that may contain duplicates.",
    "A {noun} is {adj} when its {noun2} is divisible by {n}.",
    "Return the {noun2}s in the order they first appear.",
    "If no {noun} qualifies, return an empty list rather than None.",
    "The list can hold up to {n} thousand {noun}s, so avoid quadratic work.",
    "Inputs are non-negative integers unless stated otherwise.",
    "Ties between {noun}s are broken by the smaller {noun2}.",
    "Do not modify the input; build and return a new value.",
    "For example, the {adj} {noun}s of [{n}, {m}, {n}] are [{n}].",
    "Document the function with a short docstring and type hints.",
)
REFUSAL = "I'm sorry, but I can't help with writing this function."


class Thinking(StrEnum):
    """Where a response carries `<think>` reasoning."""

    NONE = "none"
    CLOSED = "closed"  # a closed block before the answer
    TRAILING_UNCLOSED = "trailing_unclosed"  # an unclosed block after the answer (cut off)
    ONLY = "only"  # nothing but an unclosed block: nothing visible is left


class CodeFault(StrEnum):
    """How the response's code goes wrong, if at all."""

    NONE = "none"
    SYNTAX_ERROR = "syntax_error"  # the python block does not parse
    OPEN_FENCE = "open_fence"  # the response ends inside the code fence
    REFUSAL = "refusal"  # refusal boilerplate in the prose


@dataclass(frozen=True)
class ResponseShape:
    """What one response should look like."""

    chars: int
    thinking: Thinking = Thinking.NONE
    fault: CodeFault = CodeFault.NONE


class Bits:
    """Many small random choices from one draw of the generator (much faster than `choice`)."""

    def __init__(self, rng: random.Random, bits: int = 192) -> None:
        self._x = rng.getrandbits(bits)

    def pick(self, options: tuple[str, ...]) -> str:
        """One of `options`."""
        self._x, k = divmod(self._x, len(options))
        return options[k]

    def below(self, n: int) -> int:
        """An integer in [0, n)."""
        self._x, k = divmod(self._x, n)
        return k


def name(rng: random.Random) -> str:
    """A snake_case identifier such as `merge_bucket_7`."""
    bits = Bits(rng, 32)
    suffix = bits.below(200)
    return f"{bits.pick(VERBS)}_{bits.pick(NOUNS)}" + (f"_{suffix}" if suffix < 100 else "")


def _fill(bits: Bits, template: str, fn: str) -> str:
    return template.format(
        noun=bits.pick(NOUNS),
        noun2=bits.pick(NOUNS),
        adj=bits.pick(ADJECTIVES),
        verb=bits.pick(VERBS),
        fn=fn,
        n=2 + bits.below(58),
        m=60 + bits.below(939),
    )


@dataclass(frozen=True)
class SentencePool:
    """Sentences filled once from templates; `{fn}` stays a marker that each row replaces."""

    sentences: tuple[str, ...]
    mean_chars: float

    @classmethod
    def build(cls, rng: random.Random, templates: tuple[str, ...], size: int) -> SentencePool:
        """`size` sentences, each a template filled with seeded words and numbers."""
        sentences = []
        for _ in range(size):
            bits = Bits(rng)
            sentences.append(_fill(bits, bits.pick(templates), FN_MARKER))
        return cls(tuple(sentences), sum(map(len, sentences)) / size)

    def prose(self, rng: random.Random, fn: str, chars: int) -> str:
        """Sentences until at least `chars` characters, in paragraphs, naming `fn`."""
        out: list[str] = []
        size = 0
        while size < chars:
            for sentence in rng.choices(self.sentences, k=int(chars / self.mean_chars) + 1):
                out.append(sentence)
                out.append("\n\n" if len(out) % 11 == 0 else " ")
                size += len(sentence) + 1
                if size >= chars:
                    break
        return "".join(out).strip().replace(FN_MARKER, fn)


FN_MARKER = "@FN@"


def prompt_text(rng: random.Random, pool: SentencePool, family: str, chars: int) -> str:
    """A task prompt of about `chars` characters (never fewer) for `family`."""
    fn, arg = name(rng), rng.choice(NOUNS) + "s"
    verb, adj = rng.choice(VERBS), rng.choice(ADJECTIVES)
    header = (
        f'def {fn}({arg}: list[int]) -> list[int]:\n    """{verb.capitalize()} the {adj} '
        f"{arg} and return them.\n    >>> {fn}([{rng.randrange(9)}, {rng.randrange(9)}])\n"
        if family == "humaneval"
        else f"Write a Python function `{fn}({arg})` that should {verb} the {adj} {arg} "
        f"({family.replace('_', ' ')} task {rng.randrange(10_000)}).\n\n"
    )
    body = pool.prose(rng, fn, max(0, chars - len(header) - 4))
    footer = '\n    """\n' if family == "humaneval" else ""
    return header + body + footer
