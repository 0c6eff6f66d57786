"""Assembling one synthetic teacher response from its shape: think, plan, code, checks, result."""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench.code import Helper, asserts, break_syntax, helper, program
from bench.texts import (
    PLAN_SENTENCES,
    PROMPT_SENTENCES,
    REFUSAL,
    RESULT_SENTENCES,
    THINK_SENTENCES,
    CodeFault,
    ResponseShape,
    SentencePool,
    Thinking,
    name,
)

POOL_SENTENCES = 20_000
POOL_HELPERS = 20_000


@dataclass(frozen=True)
class Pools:
    """Seeded sentences and code helpers that rows draw from (built once per corpus)."""

    plan: SentencePool
    think: SentencePool
    result: SentencePool
    prompt: SentencePool
    helpers: tuple[Helper, ...]

    @classmethod
    def build(cls, seed: int) -> Pools:
        """The pools of one corpus seed."""
        rng = random.Random(seed)
        return cls(
            plan=SentencePool.build(rng, PLAN_SENTENCES, POOL_SENTENCES),
            think=SentencePool.build(rng, THINK_SENTENCES, POOL_SENTENCES),
            result=SentencePool.build(rng, RESULT_SENTENCES, POOL_SENTENCES // 10),
            prompt=SentencePool.build(rng, PROMPT_SENTENCES, POOL_SENTENCES),
            helpers=tuple(helper(rng) for _ in range(POOL_HELPERS)),
        )


def _fence(body: str) -> str:
    return f"```python\n{body.rstrip()}\n```"


def _answer(rng: random.Random, pools: Pools, shape: ResponseShape, fn: str, budget: int) -> str:
    """The visible answer: plan, code (with or without the checks), checks, result."""
    plan = pools.plan.prose(rng, fn, max(60, budget // 7))
    if shape.fault is CodeFault.REFUSAL:
        plan = f"{REFUSAL} {plan}"
    checks = asserts(rng, fn)
    code = program(rng, pools.helpers, fn, max(250, budget - len(plan) - len(checks) - 200))
    if shape.fault is CodeFault.SYNTAX_ERROR:
        code = break_syntax(code, rng)
    result = pools.result.prose(rng, fn, 60)
    if shape.fault is CodeFault.OPEN_FENCE:  # cut off inside the code block, mid-signature
        cut = code.rfind("\ndef ", 0, max(len(code) // 2, code.find("\ndef ") + 1)) + 8
        return f"{plan}\n\n```python\n{code[:cut]}"
    if rng.random() < 0.5:
        blocks = _fence(code + "\n\n" + checks)
    else:
        blocks = _fence(code) + "\n\nTests:\n\n" + _fence(checks)
    return f"{plan}\n\n{blocks}\n\n{result}\n"


def response_text(rng: random.Random, pools: Pools, shape: ResponseShape) -> str:
    """A response of about `shape.chars` characters with the requested thinking and fault."""
    fn = name(rng)
    if shape.thinking is Thinking.ONLY:
        return "<think>\n" + pools.think.prose(rng, fn, shape.chars - 8) + "\n"
    think = ""
    if shape.thinking is not Thinking.NONE:
        think = pools.think.prose(rng, fn, int(shape.chars * rng.uniform(0.1, 0.3)))
    answer = _answer(rng, pools, shape, fn, shape.chars - len(think))
    if shape.thinking is Thinking.CLOSED:
        return f"<think>\n{think}\n</think>\n\n{answer}"
    if shape.thinking is Thinking.TRAILING_UNCLOSED:
        return f"{answer}\n<think>\n{think}"
    return answer
