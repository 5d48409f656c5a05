"""The metric names a PromQL expression reads (promtool is not at hand: a small lexer will do).

Strings, label matchers, range and subquery selectors, ``by``/``without``/``on``/``ignoring``/
``group_*`` label lists and Grafana's ``$variables`` are removed first, so a label or its value
is never taken for a metric; what remains is a metric name unless it is a function (followed
by ``(``), a keyword, a number or a duration.
"""

from __future__ import annotations

import re

KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "offset", "inf", "nan",
}  # fmt: skip
_LABEL_LISTS = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_NAME = re.compile(r"(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:]|\s*\()")


def metric_names(expr: str) -> set[str]:
    """Every metric name *expr* selects."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = _LABEL_LISTS.sub("", text)
    text = re.sub(r"\$\{?\w+\}?", "", text)
    names = {m for m in _NAME.findall(text) if m.lower() not in KEYWORDS}
    return {n for n in names if not re.fullmatch(r"\d+[smhdwy]?", n)}


def balanced(expr: str) -> bool:
    """Whether the brackets of *expr* (outside strings) pair up."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    stack: list[str] = []
    pairs = {")": "(", "]": "[", "}": "{"}
    for ch in text:
        if ch in "([{":
            stack.append(ch)
        elif ch in pairs and (not stack or stack.pop() != pairs[ch]):
            return False
    return not stack
