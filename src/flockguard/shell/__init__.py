"""What a shell command may read, write or delete.

This is the conservative first pass (a ``shlex`` scan of redirects, common file commands,
wrappers and ``sh -c`` strings). Anything it cannot pin down is reported as ``dynamic`` or
``parse_error`` so that the guards fail safe rather than guess.
"""

from __future__ import annotations

import os
import re
import shlex

from flockguard.model import Value


class Analysis(Value):
    """Paths as written in the command (relative ones joined to any ``cd`` before them)."""

    __slots__ = ("reads", "writes", "deletes", "dynamic", "parse_error")
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    deletes: tuple[str, ...]
    dynamic: tuple[str, ...]
    parse_error: str

    def __init__(
        self,
        reads: tuple[str, ...] = (),
        writes: tuple[str, ...] = (),
        deletes: tuple[str, ...] = (),
        dynamic: tuple[str, ...] = (),
        parse_error: str = "",
    ) -> None:
        self._fill(locals())


SEPARATORS = frozenset({";", "&&", "||", "|", "&", "|&", "\n", "(", ")", "{", "}", ";;"})
# Words that open or continue a compound command: the command proper follows them.
LEADING_KEYWORDS = frozenset(
    {"if", "then", "else", "elif", "do", "while", "until", "!", "{", "time"}
)
# Words that close one: they end the command before them.
CLOSING_KEYWORDS = frozenset({"fi", "done", "esac", "}"})
# Options that take a value, per command: the value is not a path.
VALUED = {
    "head": frozenset({"-n", "-c"}),
    "tail": frozenset({"-n", "-c"}),
    "grep": frozenset({"-e", "--regexp", "-A", "-B", "-C", "-m", "--max-count"}),
    "rg": frozenset({"-e", "--regexp", "-A", "-B", "-C", "-m", "-g", "--glob", "-t", "--type"}),
    "cut": frozenset({"-d", "-f", "-c", "-b"}),
    "sort": frozenset({"-k", "-t", "-o"}),
}
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")
WRITE_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", "<>"})
HARMLESS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"})
WRAPPERS = frozenset({"sudo", "nice", "nohup", "time", "command", "builtin", "exec", "xargs"})
READERS = frozenset(
    {"cat", "less", "more", "head", "tail", "base64", "xxd", "od", "strings", "cut", "sort",
     "diff", "source", ".", "nl", "wc", "tac", "uniq", "md5sum", "sha256sum", "file", "jq"}
)  # fmt: skip
SEARCHERS = frozenset({"grep", "egrep", "fgrep", "rg", "ag"})
WRITERS = frozenset({"tee", "touch", "truncate", "mkdir", "chmod", "chown"})
DELETERS = frozenset({"rm", "unlink", "shred", "rmdir"})
COPIERS = frozenset({"cp", "mv", "install", "ln", "rsync", "scp"})
SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh"})


class _Scan:
    def __init__(self) -> None:
        self.reads: list[str] = []
        self.writes: list[str] = []
        self.deletes: list[str] = []
        self.dynamic: list[str] = []
        self.cwd = ""

    def add(self, bucket: list[str], word: str, what: str) -> None:
        if not word or word in HARMLESS:
            return
        if "$" in word or "`" in word:
            self.dynamic.append(f"{what} target {word!r} is only known at run time")
            return
        joined = self.cwd and not word.startswith("~")
        bucket.append(os.path.join(self.cwd, word) if joined else word)

    def command(self, words: list[str]) -> None:
        while words and words[0] in LEADING_KEYWORDS:
            words = words[1:]
        words = _strip_wrappers(words)
        if not words or words[0] in ("for", "case", "select", "function"):
            return  # their words are names and patterns; the body is scanned on its own
        name, args = os.path.basename(words[0]), words[1:]
        valued = VALUED.get(name, frozenset())
        operands = []
        value_next = False
        for arg in args:
            if value_next:
                value_next = False
            elif arg in valued:
                value_next = True
            elif not arg.startswith("-"):
                operands.append(arg)
        if name == "cd":
            target = operands[0] if operands else "~"
            if "$" in target:
                self.dynamic.append(f"cd to {target!r} is only known at run time")
            self.cwd = os.path.join(self.cwd, target) if self.cwd else target
        elif name in SHELLS and "-c" in args:
            nested = args[args.index("-c") + 1 : args.index("-c") + 2]
            self.nested(nested[0] if nested else "")
        elif name == "eval":
            self.nested(" ".join(args))
        elif name in READERS:
            for word in operands:
                self.add(self.reads, word, "read")
        elif name in SEARCHERS:
            explicit = any(a in ("-e", "-f", "--regexp", "--file") for a in args)
            for word in operands if explicit else operands[1:]:
                self.add(self.reads, word, "read")
        elif name in WRITERS:
            skip = 1 if name in ("chmod", "chown") else 0
            for word in operands[skip:]:
                self.add(self.writes, word, "write")
        elif name in DELETERS:
            for word in operands:
                self.add(self.deletes, word, "delete")
        elif name in COPIERS and len(operands) >= 2:
            destination = operands[-1]
            self.add(self.writes, destination, "write")
            for word in operands[:-1]:
                self.add(self.deletes if name == "mv" else self.reads, word, "source")
                # into a directory the file keeps its name: `cp s.json .claude/` writes
                # `.claude/s.json` (a file destination makes this a harmless extra name)
                inside = f"{destination.rstrip('/')}/{os.path.basename(word.rstrip('/'))}"
                self.add(self.writes, inside, "write")
        elif name in ("sed", "perl", "ruby") and any(a.startswith(("-i", "-pi")) for a in args):
            for word in operands[1:]:
                self.add(self.writes, word, "write")
        elif name == "dd":
            for arg in args:
                if arg.startswith("of="):
                    self.add(self.writes, arg[3:], "write")
                elif arg.startswith("if="):
                    self.add(self.reads, arg[3:], "read")

    def nested(self, text: str) -> None:
        inner = analyze(text)
        if inner.parse_error:
            raise ValueError(inner.parse_error)
        base = self.cwd
        for bucket, found in (
            (self.reads, inner.reads),
            (self.writes, inner.writes),
            (self.deletes, inner.deletes),
        ):
            bucket.extend(os.path.join(base, p) if base else p for p in found)
        self.dynamic.extend(inner.dynamic)


def _strip_wrappers(words: list[str]) -> list[str]:
    while words:
        head = os.path.basename(words[0])
        if "=" in words[0] and not words[0].startswith("="):
            words = words[1:]  # VAR=value before the command
        elif head == "env":
            words = [w for w in words[1:] if not w.startswith("-")]
        elif head == "timeout":
            rest = [w for w in words[1:] if not w.startswith("-")]
            words = rest[1:]
        elif head in WRAPPERS:
            words = [w for w in words[1:] if not w.startswith("-")]
        else:
            break
    return words


def _heredoc_delimiters(line: str) -> list[str]:
    """Delimiters of the here-documents a line opens (an unquoted ``<<`` only)."""
    if not _HEREDOC.search(line):
        return []
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>()")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError:
        return []  # a quote left open: not a plain here-document line
    return [
        tokens[index + 1].lstrip("-")
        for index, token in enumerate(tokens[:-1])
        if token in ("<<", "<<-")
    ]


def _without_comments(command: str) -> str:
    """Drop comments as bash does: a `#` that starts a word, outside quotes, to the line's end."""
    out: list[str] = []
    quote = ""
    index = 0
    while index < len(command):
        char = command[index]
        if char == "\\" and quote != "'":
            out.append(command[index : index + 2])
            index += 2
            continue
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (not out or out[-1][-1:] in " \t\n;&|()"):
            end = command.find("\n", index)
            index = len(command) if end == -1 else end
            continue
        out.append(char)
        index += 1
    return "".join(out)


def _without_heredoc_bodies(command: str) -> str:
    """Drop here-document bodies: they are data, not commands (the ``<<`` stays).

    A body whose delimiter line never comes is kept: then it was no here-document.
    """
    lines = command.split("\n")
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        kept.append(line)
        index += 1
        for delimiter in _heredoc_delimiters(line):
            end = next((i for i in range(index, len(lines)) if lines[i].strip() == delimiter), None)
            if end is not None:
                index = end + 1
    return "\n".join(kept)


def analyze(command: str) -> Analysis:
    """The paths ``command`` may read, write or delete, as far as a scan can tell."""
    if "<<" in command:
        command = _without_heredoc_bodies(command)
    if "#" in command:
        command = _without_comments(command)
    # a backquoted command runs too; splitting there lets its words be read as a command
    command = command.replace("`", " ; ")
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|<>()\n")
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    lexer.commenters = ""  # done by _without_comments: shlex would cut `a#b` at the `#`
    try:
        tokens = list(lexer)
    except ValueError as exc:
        return Analysis(parse_error=f"cannot parse the command: {exc}")
    scan = _Scan()
    words: list[str] = []
    index = 0
    try:
        while index < len(tokens):
            token = tokens[index]
            follower = tokens[index + 1] if index + 1 < len(tokens) else ""
            if token in WRITE_REDIRECTS or (token == ">" and words and words[-1].isdigit()):
                if token == ">" and words and words[-1].isdigit():
                    words.pop()  # `2>file`: the digit is the descriptor, not an argument
                if follower.startswith("&") or follower in (">", "|"):
                    index += 2  # `>&2`, `2>&1`: a descriptor, not a file
                    continue
                scan.add(scan.writes, follower, "redirect")
                index += 2
                continue
            if token in ("<", "<<<"):
                if token == "<":
                    scan.add(scan.reads, follower, "redirect")
                index += 2
                continue
            if token == "<<":
                index += 2  # here-doc delimiter; its body is not a path
                continue
            if (
                token in SEPARATORS
                or set(token) <= set(";&|()\n")
                or (token in CLOSING_KEYWORDS and not words)
            ):
                scan.command(words)
                words = []
            else:
                words.append(token)
            index += 1
        scan.command(words)
    except ValueError as exc:
        return Analysis(parse_error=f"cannot parse a nested command: {exc}")
    return Analysis(
        tuple(scan.reads),
        tuple(scan.writes),
        tuple(scan.deletes),
        tuple(scan.dynamic),
    )
