"""What a shell command may read, write or delete, from its bash syntax tree (tree-sitter).

``analyze(command)`` walks the tree the way bash would run it: lists, pipelines, subshells,
groups, ``if``/``for``/``while``/``case``, functions defined in the same command, ``bash -c`` and
``eval`` strings, ``$(…)``, backquotes, ``<(…)``, wrappers such as ``sudo`` and ``xargs``, ``cd``
and simple variables. Paths are relative to the directory the command starts in. A target known
only at run time is reported in ``dynamic`` as a glob of what it could be (``src/*.py`` for
``src/$NAME.py``); a command tree-sitter cannot parse sets ``parse_error``.
"""

from __future__ import annotations

import os

from flockguard.model import Value as _Record
from flockguard.shell import commands
from flockguard.shell.commands import Arg
from flockguard.shell.parser import parse
from flockguard.shell.words import UNKNOWN, Evaluator

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tree_sitter import Node, Tree

    from flockguard.shell.words import Value

HARMLESS = frozenset(
    {
        "/dev/null",
        "/dev/stdout",
        "/dev/stderr",
        "/dev/tty",
        "/dev/zero",
        "/dev/random",
        "/dev/urandom",
        "-",
    }
)
MAX_DEPTH = 8  # nested bash -c / eval / function calls followed
GLOB_CHARS = frozenset("*?[")


class Analysis(_Record):
    """``dynamic``: (kind, glob) for targets known only at run time. ``into``: (directory, name)
    for a copy whose destination may be a directory (then ``directory/name`` is written)."""

    __slots__ = ("reads", "writes", "deletes", "dynamic", "into", "notes", "parse_error")
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    deletes: tuple[str, ...]
    dynamic: tuple[tuple[str, str], ...]
    into: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]
    parse_error: str

    def __init__(
        self,
        reads: tuple[str, ...] = (),
        writes: tuple[str, ...] = (),
        deletes: tuple[str, ...] = (),
        *,
        dynamic: tuple[tuple[str, str], ...] = (),
        into: tuple[tuple[str, str], ...] = (),
        notes: tuple[str, ...] = (),
        parse_error: str = "",
    ) -> None:
        self._fill(locals())


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


class _Walker:
    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {"read": [], "write": [], "delete": []}
        self.dynamic: list[tuple[str, str]] = []
        self.into_dirs: list[tuple[str, str]] = []
        self.notes: list[str] = []
        self.errors: list[str] = []
        self.cwd = ""
        self.cwd_dynamic = False
        self.stack: list[tuple[str, bool]] = []
        self.variables: dict[str, list[Value]] = {}
        self.functions: dict[str, Node] = {}
        self.depth = 0
        self.stdin_script = ""  # a here-document's text, for `bash <<EOF`, `python3 - <<EOF`
        self.words = Evaluator(self.variables, self._substitution)

    # ---- paths ---------------------------------------------------------------------------------

    def resolve(self, text: str) -> str:
        if text.startswith(("/", "~")):
            return os.path.normpath(text) if text != "~" else "~"
        joined = os.path.join(self.cwd, text) if self.cwd else text
        return os.path.normpath(joined)

    def emit(self, kind: str, values: list[Value]) -> None:
        for text, dynamic in values:
            if not text or text in HARMLESS or text.startswith("/dev/fd/"):
                continue
            path = self.resolve(text)
            if dynamic or (self.cwd_dynamic and not text.startswith(("/", "~"))):
                glob = path if not self.cwd_dynamic or text.startswith(("/", "~")) else f"*/{text}"
                self.dynamic.append((kind, glob))
                self.notes.append(f"{kind} target `{glob}` is only known at run time")
            else:
                self.found[kind].append(path)

    # Effects, as commands.py reports them
    def read(self, values: list[Value]) -> None:
        self.emit("read", values)

    def write(self, values: list[Value]) -> None:
        self.emit("write", values)

    def delete(self, values: list[Value]) -> None:
        self.emit("delete", values)

    def into(self, directory: list[Value], sources: list[list[Value]]) -> None:
        for folder, folder_dynamic in directory:
            for source in sources:
                for text, dynamic in source:
                    name = os.path.basename(text.rstrip("/"))
                    if folder_dynamic or dynamic:
                        self.emit("write", [(os.path.join(folder, name or "*"), True)])
                    elif folder.endswith("/") or folder in (".", "..") or len(sources) > 1:
                        self.emit("write", [(os.path.join(folder, name), False)])
                    else:
                        self.into_dirs.append((self.resolve(folder), name))

    def run(self, argv: list[Arg]) -> None:
        if argv:
            self.dispatch(argv[0].text, argv[1:], argv[0].dynamic)

    def script(self, text: str) -> None:
        if self.depth >= MAX_DEPTH:
            self.notes.append("nested too deeply to follow")
            self.dynamic.append(("write", "*"))
            return
        tree = parse(text)
        self.depth += 1
        saved = (self.cwd, self.cwd_dynamic, dict(self.variables))
        try:
            self._check_errors(tree.root_node)
            self.statement(tree.root_node)
        finally:
            self.depth -= 1
            self.cwd, self.cwd_dynamic = saved[0], saved[1]

    def inline(self, language: str, code: str) -> None:
        from flockguard.shell.inline import files

        for kind, path in files(language, code):
            self.emit(kind, [(path, False)])

    def dynamic_note(self, kind: str, why: str) -> None:
        self.dynamic.append((kind, "*"))
        self.notes.append(why)

    # ---- the tree ------------------------------------------------------------------------------

    def _check_errors(self, root: Node) -> None:
        if not root.has_error:
            return
        stack = [root]
        while stack:
            node = stack.pop()
            if node.type == "ERROR" or node.is_missing:
                where = node.start_point
                text = (node.text or b"").decode("utf-8", "replace")[:40]
                self.errors.append(
                    f"bash syntax error at line {where[0] + 1}, column {where[1] + 1}"
                    + (f" near `{text}`" if text else "")
                )
                return
            stack.extend(node.children)

    def statement(self, node: Node) -> None:
        kind = node.type
        if kind == "command":
            self.command(node)
        elif kind == "redirected_statement":
            body = node.child_by_field_name("body")
            redirects = node.children_by_field_name("redirect")
            if body is not None and body.type == "command":  # `bash <<EOF` feeds it a script
                for child in redirects:
                    if child.type == "heredoc_redirect":
                        self.redirect(child)
                redirects = [c for c in redirects if c.type != "heredoc_redirect"]
            # tree-sitter hangs `a && cd x && b > f` 's redirect on the whole list; bash gives it
            # to the last command, after the `cd`. A group's redirect applies before it runs.
            late = body is not None and body.type in ("list", "pipeline")
            if not late:
                for child in redirects:
                    self.redirect(child)
            if body is not None:
                self.statement(body)
            if late:
                for child in redirects:
                    self.redirect(child)
        elif kind == "subshell":
            saved = (self.cwd, self.cwd_dynamic, dict(self.variables))
            self.children(node)
            self.cwd, self.cwd_dynamic = saved[0], saved[1]
            self.variables.clear()
            self.variables.update(saved[2])
        elif kind == "variable_assignment":
            self.assign(node)
        elif kind == "variable_assignments":
            for child in node.children:
                self.statement(child)
        elif kind == "declaration_command":
            for child in node.children:
                if child.type == "variable_assignment":
                    self.assign(child)
                elif child.type in ("command_substitution", "process_substitution"):
                    self.statement(child)  # `export $(grep -v '^#' .env | xargs)`
        elif kind == "function_definition":
            name = node.child_by_field_name("name")
            body = node.child_by_field_name("body")
            if name is not None and body is not None and name.text:
                self.functions[name.text.decode()] = body
        elif kind == "for_statement":
            self.for_loop(node)
        elif kind in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
            self.redirect(node)
        elif kind in ("command_substitution", "process_substitution"):
            self.children(node)
        elif kind in (
            "test_command",
            "binary_expression",
            "unary_expression",
            "arithmetic_expansion",
        ):
            self.substitutions(node)
        elif kind in ("comment", "heredoc_body", "heredoc_start", "heredoc_end"):
            return
        else:
            self.children(node)

    def children(self, node: Node) -> None:
        for child in node.children:
            if child.is_named:
                self.statement(child)

    def substitutions(self, node: Node) -> None:
        """Run only the command substitutions inside (tests, arithmetic: no paths of their own)."""
        for child in node.children:
            if child.type in ("command_substitution", "process_substitution"):
                self.statement(child)
            else:
                self.substitutions(child)

    def _substitution(self, node: Node) -> list[Value] | None:
        # `$(< file)` reads the file; any substitution's commands run
        self.children(node)
        if node.type == "process_substitution":
            return [("/dev/fd/63", False)]  # a pipe's name, not a file on disk
        body = _cat_heredoc(node)
        return [(body, False)] if body is not None else None

    def assign(self, node: Node) -> None:
        name = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        if name is None or not name.text:
            return
        values = self.words.values(value) if value is not None else [("", False)]
        self.variables[name.text.decode()] = values

    def for_loop(self, node: Node) -> None:
        variable = node.child_by_field_name("variable")
        values = [
            v for child in node.children_by_field_name("value") for v in self.words.values(child)
        ]
        if variable is not None and variable.text:
            self.variables[variable.text.decode()] = values or [UNKNOWN]
        body = node.child_by_field_name("body")
        if body is not None:
            self.statement(body)

    def redirect(self, node: Node) -> None:
        if node.type == "heredoc_redirect":
            for child in node.children:
                if child.type == "heredoc_body":
                    self.substitutions(child)  # an unquoted body's $(…) runs
                    self.stdin_script = (child.text or b"").decode("utf-8", "surrogateescape")
                elif child.is_named and child.type not in ("heredoc_start", "heredoc_end"):
                    self.statement(child)
            return
        if node.type == "herestring_redirect":
            self.substitutions(node)
            return
        operators = [c.type for c in node.children if not c.is_named or c.type == "ERROR"]
        destination = node.child_by_field_name("destination")
        if destination is None:
            return
        if destination.type in ("command_substitution", "process_substitution"):
            self.statement(destination)
        values = self.words.values(destination)
        if any(op in (">&", "<&", ">&-", "<&-") for op in operators):
            if destination.type == "number" or values[0][0] in ("-", "") or values[0][0].isdigit():
                return  # 2>&1, >&-: descriptors, not files
            self.write(values)  # `>&file` is `&>file`
            return
        if "<" in operators:
            self.read(values)
        else:
            self.write(values)

    def command(self, node: Node) -> None:
        name_node = node.child_by_field_name("name")
        for child in node.children:
            if child.type == "variable_assignment":
                self.assign(child)
            elif child.type in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
                self.redirect(child)
        if name_node is None:
            return
        name_values = self.words.values(name_node.children[0] if name_node.children else name_node)
        args = [
            Arg(values)
            for child in node.children_by_field_name("argument")
            for values in self.words.arguments(child)
        ]
        name, dynamic = name_values[0]
        try:
            self.dispatch(name, args, dynamic)
        finally:
            self.stdin_script = ""

    def dispatch(self, name: str, args: list[Arg], dynamic: bool = False) -> None:
        if dynamic:
            if args:
                self.notes.append("the command to run is only known at run time")
            return
        base = os.path.basename(name)
        if name in self.functions and self.depth < MAX_DEPTH:
            self.depth += 1
            try:
                self.statement(self.functions[name])
            finally:
                self.depth -= 1
            return
        if base in ("cd", "pushd"):
            self.change_directory(base, args)
        elif base == "popd":
            if self.stack:
                self.cwd, self.cwd_dynamic = self.stack.pop()
        elif base in commands.WRAPPERS:
            valued, skip = commands.WRAPPERS[base]
            if base == "nohup":
                self.write([("nohup.out", False)])  # where its output goes unless redirected
            if base == "command" and args and args[0].text in ("-v", "-V"):
                return
            rest = _after_options(args, valued)[skip:]
            if rest:
                self.dispatch(rest[0].text, rest[1:], rest[0].dynamic)
        elif base == "env":
            rest = _after_options(args, frozenset({"-u", "--unset", "-C", "--chdir", "-S"}))
            while rest and "=" in rest[0].text and not rest[0].text.startswith("="):
                rest = rest[1:]
            if rest:
                self.dispatch(rest[0].text, rest[1:], rest[0].dynamic)
        elif base in commands.SHELLS or base in ("eval", "trap"):
            self.run_code(base, args)
        elif base in commands.COMMANDS:
            commands.COMMANDS[base](args, self)
            from flockguard.shell.inline import LANGUAGES

            reads_stdin = (
                not args or args[-1].text == "-" or all(a.text.startswith("-") for a in args)
            )
            if self.stdin_script and base in LANGUAGES and reads_stdin:
                self.inline(LANGUAGES[base], self.stdin_script)

    def run_code(self, base: str, args: list[Arg]) -> None:
        """`bash -c`, a script on a shell's input, `eval` and `trap`: code that runs too."""
        if base == "eval":
            text = " ".join(a.text for a in args)
            if text.strip() in ("*", ""):
                self.dynamic_note("write", "an `eval` of text only known at run time")
            else:
                self.script(text)
            return
        if base == "trap":
            if args and not args[0].text.startswith("-") and args[0].text:
                self.script(args[0].text)  # runs later, on the signal: still this command's doing
            return
        flags = [
            i
            for i, a in enumerate(args)
            if a.text.startswith("-") and not a.text.startswith("--") and "c" in a.text
        ]
        operands = [a for a in args if not a.text.startswith("-")]
        if flags and flags[0] + 1 < len(args):  # -c, -lc, -ec …
            code = args[flags[0] + 1]
            if code.dynamic and code.text.strip() == "*":
                self.dynamic_note("write", "a `-c` script only known at run time")
            else:
                self.script(code.text)  # unknown parts of it read as `*`
        elif self.stdin_script and not operands:
            self.script(self.stdin_script)
        elif not operands or operands[0].text == "-s":
            self.dynamic_note("write", f"`{base}` runs a script read from its input")

    def change_directory(self, base: str, args: list[Arg]) -> None:
        operands = [a for a in args if not a.text.startswith("-") or a.text == "-"]
        if base == "pushd":
            self.stack.append((self.cwd, self.cwd_dynamic))
        if not operands:
            self.cwd, self.cwd_dynamic = "~", False
            return
        target = operands[0]
        if target.dynamic or target.text == "-" or len(target.values) > 1:
            self.cwd_dynamic = True
            self.notes.append("`cd` to a directory only known at run time")
            return
        self.cwd = self.resolve(target.text)


def _cat_heredoc(node: Node) -> str | None:
    """The text of `$(cat <<'EOF' … EOF)` (a quoted delimiter: no expansion inside)."""
    inner = [c for c in node.children if c.is_named]
    if len(inner) != 1 or inner[0].type != "redirected_statement":
        return None
    body = inner[0].child_by_field_name("body")
    if body is None or body.type != "command" or (body.text or b"").strip() != b"cat":
        return None
    for redirect in inner[0].children_by_field_name("redirect"):
        start = next((c for c in redirect.children if c.type == "heredoc_start"), None)
        text = next((c for c in redirect.children if c.type == "heredoc_body"), None)
        if start is not None and text is not None and (start.text or b"")[:1] in (b"'", b'"'):
            return (text.text or b"").decode("utf-8", "surrogateescape")
    return None


def _after_options(args: list[Arg], valued: frozenset[str]) -> list[Arg]:
    index = 0
    while index < len(args) and args[index].text.startswith("-") and not args[index].dynamic:
        index += 2 if args[index].text in valued else 1
    return args[index:]


def _without_read_write_redirects(command: str) -> str:
    """tree-sitter-bash has no `<>`: spell `n<> f` as `n< f n>> f`, which touches f alike."""
    import re

    return re.sub(r"(\d*)<>(\s*)([^\s;&|<>()]+)", r"\1<\2\3 \1>>\2\3", command)


def _as_test_commands(command: str) -> Tree | None:
    """tree-sitter-bash rejects `[ "$a" \\> "$b" ]`; `test "$a" \\> "$b"` means the same and
    parses. Tried only when the first parse failed."""
    import re

    rewritten = re.sub(r"(?<![\w\[])\[ (.+?) \](?!\])", r"test \1", command)
    tree = parse(rewritten)
    return None if tree.root_node.has_error else tree


def analyze(command: str) -> Analysis:
    """The paths ``command`` may read, write or delete, relative to where it starts."""
    walker = _Walker()
    if "<>" in command:
        command = _without_read_write_redirects(command)
    tree = parse(command)
    if tree.root_node.has_error and "[ " in command:
        tree = _as_test_commands(command) or tree
    walker._check_errors(tree.root_node)
    walker.statement(tree.root_node)
    found = walker.found
    return Analysis(
        _unique(found["read"]),
        _unique(found["write"]),
        _unique(found["delete"]),
        dynamic=tuple(dict.fromkeys(walker.dynamic)),
        into=tuple(dict.fromkeys(walker.into_dirs)),
        notes=_unique(walker.notes),
        parse_error=walker.errors[0] if walker.errors else "",
    )
