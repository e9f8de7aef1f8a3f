"""What a bash word stands for once the shell has expanded it, as far as that can be known.

A word evaluates to its alternatives (brace expansion and ``for`` loops give several), each a
``(text, dynamic)`` pair: ``dynamic`` when part of it is only known at run time, that part
written as ``*`` so the text still works as a glob of what it might be.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from tree_sitter import Node

Value = tuple[str, bool]
UNKNOWN: Value = ("*", True)
MAX_ALTERNATIVES = 64  # brace expansion and loops can multiply; past this, say "unknown"

_ESCAPE = re.compile(r"\\(.)", re.S)
_BRACE = re.compile(r"\{([^{}]*,[^{}]*)\}")
_SEQUENCE = re.compile(r"\{(-?\d+)\.\.(-?\d+)\}")
_ANSI = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "f": "\f", "v": "\v"}


def _ansi_c(body: str) -> str:
    """Decode a ``$'…'`` body."""

    def one(match: re.Match[str]) -> str:
        text = match.group(0)
        kind = text[1]
        if kind in _ANSI:
            return _ANSI[kind]
        if kind in "xuU":
            return chr(int(text[2:], 16))
        if kind in "01234567":
            return chr(int(text[1:], 8))
        return text[1]

    return re.sub(
        r"\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|.)", one, body
    )


def expand_braces(text: str) -> list[str]:
    """Bash brace expansion: ``{a,b}.txt`` and ``{1..3}``."""
    match = _SEQUENCE.search(text)
    if match:
        start, end = int(match.group(1)), int(match.group(2))
        step = 1 if end >= start else -1
        if abs(end - start) < MAX_ALTERNATIVES:
            head, tail = text[: match.start()], text[match.end() :]
            return [
                word
                for number in range(start, end + step, step)
                for word in expand_braces(f"{head}{number}{tail}")
            ]
    match = _BRACE.search(text)
    if not match:
        return [text]
    head, tail = text[: match.start()], text[match.end() :]
    found: list[str] = []
    for part in match.group(1).split(","):
        found.extend(expand_braces(head + part + tail))
        if len(found) > MAX_ALTERNATIVES:
            break
    return found


class Evaluator:
    """Evaluates word nodes against the variables known so far."""

    def __init__(
        self,
        variables: dict[str, list[Value]],
        on_substitution: Callable[[Node], list[Value] | None],
    ) -> None:
        self.variables = variables
        self.on_substitution = on_substitution  # analyses $(…), returns its value if known

    def values(self, node: Node) -> list[Value]:
        kind = node.type
        if kind in ("word", "number", "brace_expression"):
            text = node.text.decode("utf-8", "surrogateescape") if node.text else ""
            unescaped = _ESCAPE.sub(r"\1", text)
            if "{" in text and "\\{" not in text:
                return [(word, False) for word in expand_braces(unescaped)]
            return [(unescaped, False)]
        if kind == "raw_string":
            text = node.text.decode("utf-8", "surrogateescape") if node.text else "''"
            return [(text[1:-1], False)]
        if kind == "ansi_c_string":
            text = node.text.decode("utf-8", "surrogateescape") if node.text else "$''"
            return [(_ansi_c(text[2:-1]), False)]
        if kind == "string":
            return self._sequence([c for c in node.children if c.type != '"'], quoted=True)
        if kind == "string_content":
            text = node.text.decode("utf-8", "surrogateescape") if node.text else ""
            return [(re.sub(r'\\([$`"\\\n])', r"\1", text), False)]
        if kind == "concatenation":
            values = self._sequence(list(node.children), quoted=False)
            if any(
                c.type == "brace_expression" or (c.type == "word" and b"{" in (c.text or b""))
                for c in node.children
            ):
                return [(w, d) for text, d in values for w in expand_braces(text)][
                    :MAX_ALTERNATIVES
                ]
            return values
        if kind == "simple_expansion":
            last = node.children[-1].text if node.children else None
            return self._variable(last.decode() if last else "")
        if kind == "expansion":
            return self._expansion(node)
        if kind in ("command_substitution", "process_substitution"):
            found = self.on_substitution(node)
            return found if found is not None else [UNKNOWN]
        if kind == "arithmetic_expansion":
            return [UNKNOWN]
        if kind == "translated_string":  # $"…"
            return self._sequence([c for c in node.children if c.type == "string"], quoted=True)
        return [UNKNOWN]

    def arguments(self, node: Node) -> list[list[Value]]:
        """The arguments one word node becomes: brace expansion makes several, a variable with
        several possible values stays one argument with alternatives."""
        values = self.values(node)
        text = node.text or b""
        if len(values) > 1 and b"{" in text and (b"," in text or b".." in text):
            return [[value] for value in values]
        return [values]

    def text(self, node: Node) -> str:
        """The first alternative's text (for command names, options and the like)."""
        return self.values(node)[0][0]

    def _sequence(self, nodes: list[Node], *, quoted: bool) -> list[Value]:
        result: list[Value] = [("", False)]
        for child in nodes:
            if child.type in ("$", "`"):
                continue
            parts = self.values(child)
            result = [(a + b, da or db) for a, da in result for b, db in parts][:MAX_ALTERNATIVES]
        del quoted
        return result

    def _variable(self, name: str) -> list[Value]:
        if name in self.variables:
            return self.variables[name]
        if name == "HOME":
            return [("~", False)]
        return [UNKNOWN]

    def _expansion(self, node: Node) -> list[Value]:
        names = [c for c in node.children if c.type == "variable_name"]
        operators = [c.type for c in node.children if c.type not in ("${", "}", "variable_name")]
        if len(names) == 1 and not operators:
            return self._variable(names[0].text.decode() if names[0].text else "")
        if len(names) == 1 and operators[:1] in ([":-"], ["-"], [":="], ["="]):
            name = names[0].text.decode() if names[0].text else ""
            if name in self.variables:
                return self.variables[name]
        return [UNKNOWN]
