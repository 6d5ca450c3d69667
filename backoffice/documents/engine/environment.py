"""The Jinja environment documents are compiled in: sandboxed, autoescaped, strict, with the
French filters of :mod:`backoffice.formatting` and limits on what a template may build."""
from __future__ import annotations

from typing import Callable

import jinja2
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from backoffice import formatting

MAX_REPEAT = 100_000  # longest string/list a template may build with "*"
MAX_EXPONENT = 100



FILTERS: dict[str, Callable] = {
    "money": formatting.format_money,
    "money_plain": formatting.format_money_plain,
    "money_words": formatting.money_in_words,
    "date_fr": formatting.format_date_fr,
    "date_short": formatting.format_date_short,
}


class _DocumentEnvironment(SandboxedEnvironment):
    """Sandbox that also refuses to build huge strings or numbers (``'x' * 10**9``)."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            if isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
                raise SecurityError("exponent too large")
        elif operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(count, int):
                    if len(seq) * count > MAX_REPEAT:
                        raise SecurityError("repetition too large")
        return super().call_binop(context, operator, left, right)


def make_environment() -> jinja2.Environment:
    """The Jinja environment documents are compiled in (sandboxed, autoescaped, strict)."""
    env = _DocumentEnvironment(autoescape=True, undefined=StrictUndefined)
    env.filters.update(FILTERS)
    return env
