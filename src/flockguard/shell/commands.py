"""What each command does to files, given its evaluated arguments.

One table entry per command family. An entry gets the arguments and an :class:`Effects` to
report reads, writes, deletes and code to analyse in turn; anything not listed touches no file
by its arguments (its redirects are handled by the walker).
"""

from __future__ import annotations

import os

from flockguard.shell.inline import LANGUAGES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Protocol

    from flockguard.shell.words import Value

    class Effects(Protocol):
        def read(self, values: list[Value]) -> None: ...
        def write(self, values: list[Value]) -> None: ...
        def delete(self, values: list[Value]) -> None: ...
        def into(self, directory: list[Value], sources: list[list[Value]]) -> None: ...
        def run(self, argv: list[Arg]) -> None: ...
        def script(self, text: str) -> None: ...
        def inline(self, language: str, code: str) -> None: ...
        def dynamic_note(self, kind: str, why: str) -> None: ...


class Arg:
    """One evaluated argument: its alternatives, and its first text for option parsing."""

    __slots__ = ("text", "values")

    def __init__(self, values: list[Value]) -> None:
        self.values = values
        self.text = values[0][0] if values else ""

    @property
    def dynamic(self) -> bool:
        return any(dynamic for _, dynamic in self.values)


def split(
    args: list[Arg], valued: frozenset[str] = frozenset()
) -> tuple[dict[str, list[Arg]], list[Arg]]:
    """Options (with the values of those in ``valued``) and operands; ``--`` ends options."""
    options: dict[str, list[Arg]] = {}
    operands: list[Arg] = []
    index = 0
    while index < len(args):
        arg = args[index]
        text = arg.text
        if text == "--":
            operands.extend(args[index + 1 :])
            break
        if text.startswith("--") and "=" in text:
            name, value = text.split("=", 1)
            options.setdefault(name, []).append(Arg([(value, arg.dynamic)]))
        elif text.startswith("-") and len(text) > 1 and not arg.dynamic:
            if text in valued and index + 1 < len(args):
                options.setdefault(text, []).append(args[index + 1])
                index += 1
            elif text[:2] in valued and len(text) > 2 and not text.startswith("--"):
                options.setdefault(text[:2], []).append(Arg([(text[2:], False)]))  # -n5
            elif (
                not text.startswith("--")
                and f"-{text[-1]}" in valued
                and text[1:-1].isalpha()
                and index + 1 < len(args)
                and not args[index + 1].text.startswith("-")
            ):  # -sSLo FILE: a bundle ending in an option that takes a value
                for letter in text[1:-1]:
                    options.setdefault(f"-{letter}", [])
                options.setdefault(f"-{text[-1]}", []).append(args[index + 1])
                index += 1
            else:
                options.setdefault(text, [])
        else:
            operands.append(arg)
        index += 1
    return options, operands


def _values(args: list[Arg]) -> list[Value]:
    return [value for arg in args for value in arg.values]


def _reads_all(
    valued: frozenset[str] = frozenset(), skip: int = 0
) -> Callable[[list[Arg], Effects], None]:
    def handler(args: list[Arg], fx: Effects) -> None:
        _, operands = split(args, valued)
        fx.read(_values(operands[skip:]))

    return handler


def _writes_all(
    valued: frozenset[str] = frozenset(), skip: int = 0
) -> Callable[[list[Arg], Effects], None]:
    def handler(args: list[Arg], fx: Effects) -> None:
        _, operands = split(args, valued)
        fx.write(_values(operands[skip:]))

    return handler


def _deletes_all(valued: frozenset[str] = frozenset()) -> Callable[[list[Arg], Effects], None]:
    def handler(args: list[Arg], fx: Effects) -> None:
        _, operands = split(args, valued)
        fx.delete(_values(operands))

    return handler


def _pattern_first(
    valued: frozenset[str], pattern_options: tuple[str, ...]
) -> Callable[[list[Arg], Effects], None]:
    """grep-like: the first operand is the pattern unless one was given by option."""

    def handler(args: list[Arg], fx: Effects) -> None:
        options, operands = split(args, valued)
        given = any(name in options for name in pattern_options)
        for name in ("-f", "--file"):
            fx.read(_values(options.get(name, [])))
        fx.read(_values(operands if given else operands[1:]))

    return handler


def _copy(kind: str) -> Callable[[list[Arg], Effects], None]:
    """cp, mv, install, ln, rsync, scp: sources read (mv: deleted), the destination written."""

    def handler(args: list[Arg], fx: Effects) -> None:
        options, operands = split(
            args,
            frozenset(
                {"-t", "--target-directory", "-m", "--mode", "-S", "-e", "-o", "-g", "-i", "-P"}
            ),
        )
        if kind == "install" and ("-d" in options or "--directory" in options):
            fx.write(_values(operands))
            return
        targets = options.get("-t", []) + options.get("--target-directory", [])
        local = [a for a in operands if not _remote(a.text)]
        if targets:
            sources, destination = operands, targets[-1]
        elif len(operands) >= 2:
            sources, destination = operands[:-1], operands[-1]
        elif kind == "ln" and operands:  # `ln -s target`: a link named like the target, here
            fx.write([(os.path.basename(operands[0].text.rstrip("/")) or ".", operands[0].dynamic)])
            return
        else:
            return
        for source in sources:
            if _remote(source.text):
                continue
            if kind == "mv":
                fx.delete(source.values)
            elif kind != "ln":
                fx.read(source.values)
        if _remote(destination.text):
            return
        if kind == "rsync":
            fx.write([(t.rstrip("/") or "/", d) for t, d in destination.values])
            if any(a.text == "--remove-source-files" for a in args):
                fx.delete([(t.rstrip("/"), d) for s in sources for t, d in s.values])
            return
        certain = destination.text.endswith("/") or destination.text in (".", "..")
        if len(sources) > 1 or targets or certain:
            fx.into(destination.values, [s.values for s in sources if not _remote(s.text)])
        else:
            fx.write(destination.values)
            fx.into(destination.values, [s.values for s in sources if not _remote(s.text)])
        del local

    return handler


def _remote(text: str) -> bool:
    """`host:path`, `user@host:path` or a URL: not a local file."""
    head = text.split("/", 1)[0]
    return "://" in text or (":" in head and not head.startswith(("./", "/")) and len(head) > 2)


def _dd(args: list[Arg], fx: Effects) -> None:
    for arg in args:
        if arg.text.startswith("of="):
            fx.write([(arg.text[3:], arg.dynamic)])
        elif arg.text.startswith("if="):
            fx.read([(arg.text[3:], arg.dynamic)])


def _touch(args: list[Arg], fx: Effects) -> None:
    options, operands = split(args, frozenset({"-t", "-d", "-r", "--reference", "--date"}))
    fx.read(_values(options.get("-r", []) + options.get("--reference", [])))
    fx.write(_values(operands))


def _shred(args: list[Arg], fx: Effects) -> None:
    options, operands = split(args, frozenset({"-n", "-s", "--iterations", "--size"}))
    removes = any(o in options for o in ("-u", "--remove", "-zu", "-uz", "-fu", "-uf", "-vu"))
    (fx.delete if removes else fx.write)(_values(operands))


def _mode_first(args: list[Arg], fx: Effects) -> None:
    """chmod, chown, chgrp: the first operand is the mode or owner (unless --reference)."""
    options, operands = split(args, frozenset({"--reference"}))
    fx.write(_values(operands if "--reference" in options else operands[1:]))


def _tee(args: list[Arg], fx: Effects) -> None:
    fx.write(_values(split(args)[1]))


def _sort(args: list[Arg], fx: Effects) -> None:
    options, operands = split(args, frozenset({"-k", "-t", "-o", "--output", "-S", "-T", "--key"}))
    fx.write(_values(options.get("-o", []) + options.get("--output", [])))
    fx.read(_values(operands))


def _uniq(args: list[Arg], fx: Effects) -> None:
    _, operands = split(args, frozenset({"-f", "-s", "-w"}))
    fx.read(_values(operands[:1]))
    fx.write(_values(operands[1:2]))


def _sed(args: list[Arg], fx: Effects) -> None:
    options, operands = split(args, frozenset({"-e", "--expression", "-f", "--file", "-l"}))
    in_place = any(o.startswith(("-i", "--in-place")) for o in options) or any(
        o.startswith("-") and not o.startswith("--") and "i" in o[1:] and not o.startswith("-e")
        for o in options
    )
    scripted = any(o in options for o in ("-e", "--expression", "-f", "--file"))
    fx.read(_values(options.get("-f", []) + options.get("--file", [])))
    files = operands if scripted else operands[1:]
    if in_place and files and files[0].text == "" and "-i" in options:
        files = files[1:]  # BSD `sed -i '' …`
    fx.read(_values(files))  # in place it reads them too
    if in_place:
        fx.write(_values(files))


def _awk(args: list[Arg], fx: Effects) -> None:
    import re

    options, operands = split(args, frozenset({"-F", "-v", "-f", "--file", "-i", "--include"}))
    programs = options.get("-f", []) + options.get("--file", [])
    fx.read(_values(programs))
    files = operands
    if not programs and operands:
        program, files = operands[0].text, operands[1:]
        for operator, target in re.findall(r"""(>>?|<)\s*"([^"]+)\"""", program):
            # print > "file" writes; getline < "file" reads (a quoted string: never a comparison)
            (fx.read if operator == "<" else fx.write)([(target, False)])
        if re.search(r"""\bprintf?\b[^;}]*?>>?\s*[^\s"=]""", program):
            fx.dynamic_note("write", "awk prints to a file named at run time")
        for piped in re.findall(r"""\|\s*"([^"]+)\"""", program):
            fx.script(piped)  # print | "sort > out": a shell command
    fx.read([v for a in files if "=" not in a.text for v in a.values])
    if "inplace" in [a.text for a in options.get("-i", []) + options.get("--include", [])]:
        fx.write([v for a in files if "=" not in a.text for v in a.values])


def _interpreter(name: str) -> Callable[[list[Arg], Effects], None]:
    language = LANGUAGES[name]
    code_options = {
        "python": ("-c",),
        "node": ("-e", "--eval", "-p", "--print"),
        "ruby": ("-e",),
        "perl": ("-e", "-E"),
        "php": ("-r",),
    }[language]

    def handler(args: list[Arg], fx: Effects) -> None:
        # perl/ruby: -i edits the files named after the code in place; -n/-p read them
        in_place = language in ("perl", "ruby") and any(
            a.text.startswith("-")
            and not a.text.startswith("--")
            and "i" in a.text[1:]
            and not a.dynamic
            for a in args
        )
        if language == "python" and len(args) >= 2 and args[0].text == "-m":
            _python_module(fx, args[1].text, args[2:])
            return
        code_seen = False
        index = 0
        files: list[Arg] = []
        while index < len(args):
            text = args[index].text
            bundled = (
                language in ("perl", "ruby")
                and text.startswith("-")
                and text[1:].isalpha()
                and text.endswith(("e", "E"))
            )
            if text in code_options or bundled:
                if index + 1 < len(args):
                    fx.inline(language, args[index + 1].text)
                    code_seen = True
                index += 2
                continue
            if language == "python" and text == "-c":
                index += 2
                continue
            if code_seen and not text.startswith("-"):
                files.append(args[index])
            if language == "python" and code_seen:
                break  # the rest are sys.argv for the code
            index += 1
        if in_place or (language in ("perl", "ruby") and code_seen):
            fx.read(_values(files))
        if in_place:
            fx.write(_values(files))

    return handler


def _tar(args: list[Arg], fx: Effects) -> None:
    flags = ""
    archive: list[Arg] = []
    directory: list[Arg] = []
    operands: list[Arg] = []
    index = 0
    while index < len(args):
        text = args[index].text
        following = args[index + 1] if index + 1 < len(args) else None
        if text.startswith("--file="):
            archive.append(Arg([(text[7:], args[index].dynamic)]))
        elif text.startswith("--directory="):
            directory.append(Arg([(text[12:], args[index].dynamic)]))
        elif text in ("--file", "-f") and following:
            archive.append(following)
            index += 1
        elif text in ("-C", "--directory") and following:
            directory.append(following)
            index += 1
        elif text in ("--extract", "--get"):
            flags += "x"
        elif text == "--create":
            flags += "c"
        elif (text.startswith("-") and not text.startswith("--")) or (
            index == 0 and text.isalpha()
        ):
            letters = text.lstrip("-")
            flags += letters
            if "f" in letters and letters.endswith("f") and following:
                archive.append(following)
                index += 1
        else:
            operands.append(args[index])
        index += 1
    if "x" in flags:
        fx.read(_values(archive))
        fx.write(_values(directory) or [(".", False)])
    elif "c" in flags or "r" in flags or "u" in flags:
        fx.write([v for v in _values(archive) if v[0] != "-"])
        base = directory[-1].text if directory else ""
        fx.read([(os.path.join(base, t) if base else t, d) for t, d in _values(operands)])
    else:
        fx.read(_values(archive))


def _zip(args: list[Arg], fx: Effects) -> None:
    _, operands = split(args, frozenset({"-x", "-i"}))
    if operands:
        if operands[0].text != "-":
            fx.write(operands[0].values)
        fx.read(_values(operands[1:]))


def _unzip(args: list[Arg], fx: Effects) -> None:
    options, operands = split(args, frozenset({"-d", "-x"}))
    fx.read(_values(operands[:1]))
    if any(o in options for o in ("-l", "-t", "-v", "-Z", "-p", "-c")):
        return  # lists, tests or prints: extracts nothing
    fx.write(_values(options.get("-d", [])) or [(".", False)])


def _patch(args: list[Arg], fx: Effects) -> None:
    options, operands = split(
        args, frozenset({"-i", "--input", "-p", "-d", "--directory", "-o", "--output", "-r", "-F"})
    )
    fx.read(_values(options.get("-i", []) + options.get("--input", [])))
    fx.write(_values(options.get("-o", []) + options.get("--output", [])))
    if operands:
        fx.write(operands[0].values)
        fx.read(_values(operands[1:2]))
    else:
        fx.write(_values(options.get("-d", []) + options.get("--directory", [])) or [(".", False)])


def _git(args: list[Arg], fx: Effects) -> None:
    global_valued = frozenset({"-C", "-c", "--git-dir", "--work-tree"})
    index = 0
    base = ""
    while index < len(args) and args[index].text.startswith("-"):
        if args[index].text == "-C" and index + 1 < len(args):
            base = os.path.join(base, args[index + 1].text)
        index += 2 if args[index].text in global_valued else 1
    if index >= len(args):
        return
    if base:  # `git -C dir …`: paths are relative to dir
        fx = _Rebased(fx, base)
    sub, rest = args[index].text, args[index + 1 :]
    options, operands = split(
        rest,
        frozenset(
            {
                "-o",
                "--output",
                "--output-directory",
                "-m",
                "--message",
                "-b",
                "-B",
                "--source",
                "-s",
                "-C",
                "--author",
                "-F",
                "--file",
                "--format",
                "-n",
            }
        ),
    )
    if sub in ("apply", "am"):
        fx.read(_values(operands))
        fx.write([(".", False)])
    elif sub == "checkout":
        texts = [a.text for a in rest]
        if "--" in texts:
            fx.write(_values(rest[texts.index("--") + 1 :]))
        else:  # `git checkout .`, `git checkout src/x.py`: paths, not a branch name
            fx.write(
                [
                    v
                    for a in operands
                    if a.text == "." or "." in a.text or "*" in a.text
                    for v in a.values
                ]
            )
    elif sub == "clone" and operands:
        url = operands[0].text.rstrip("/")
        target = (
            operands[1].values
            if len(operands) > 1
            else [
                (
                    url.rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git"),
                    operands[0].dynamic,
                )
            ]
        )
        fx.write(target)
    elif sub in ("format-patch", "archive", "bundle"):
        fx.write(
            _values(
                options.get("-o", [])
                + options.get("--output", [])
                + options.get("--output-directory", [])
            )
        )
    elif sub == "worktree" and operands[:1] and operands[0].text == "add" and len(operands) > 1:
        fx.write(operands[1].values)
    elif sub == "restore":
        fx.write(_values(operands))
    elif sub == "rm":
        fx.delete(_values(operands))  # --cached too: the file leaves version control
    elif sub == "mv" and len(operands) >= 2:
        _copy("mv")(operands, fx)
    elif sub == "stash" and operands[:1] and operands[0].text in ("pop", "apply"):
        fx.write([(".", False)])
    elif sub in ("show", "cat-file"):
        for arg in operands:
            if ":" in arg.text:
                fx.read([(arg.text.split(":", 1)[1], arg.dynamic)])
    elif sub == "diff" and "--no-index" in options:
        fx.read(_values(operands))
    elif sub in ("reset",) and "--hard" in options:
        fx.write([(".", False)])
    elif sub == "clean" and any(o.startswith("-") and "f" in o for o in options):
        fx.delete(_values(operands) or [(".", False)])
    for name in ("-F", "--file"):
        if sub in ("commit", "tag"):
            fx.read(_values(options.get(name, [])))


def _curl(args: list[Arg], fx: Effects) -> None:
    valued = frozenset(
        {
            "--json",
            "-o",
            "--output",
            "-d",
            "--data",
            "--data-binary",
            "--data-raw",
            "--data-urlencode",
            "-F",
            "--form",
            "-T",
            "--upload-file",
            "-H",
            "--header",
            "-X",
            "--request",
            "-u",
            "--user",
            "-K",
            "--config",
            "-A",
            "-e",
            "-w",
            "--write-out",
            "-b",
            "-c",
            "--cookie",
            "--cookie-jar",
            "--cacert",
            "--cert",
            "--key",
            "-m",
            "--max-time",
            "--connect-timeout",
            "--retry",
        }
    )
    options, operands = split(args, valued)
    fx.write(
        [v for v in _values(options.get("-o", []) + options.get("--output", [])) if v[0] != "-"]
    )
    fx.write(_values(options.get("-c", []) + options.get("--cookie-jar", [])))
    remote_name = (
        "-O" in options
        or "--remote-name" in options
        or any(o.startswith("-") and not o.startswith("--") and "O" in o for o in options)
    )
    if remote_name and (
        "-J" in options
        or "--remote-header-name" in options
        or any(o.startswith("-") and not o.startswith("--") and "J" in o for o in options)
    ):
        fx.dynamic_note("write", "curl -J names the file after the server's answer")
    elif remote_name:
        for url in operands:
            name = url.text.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            if name:
                fx.write([(name, url.dynamic)])
    for name in ("-d", "--data", "--data-binary", "--data-urlencode", "-F", "--form", "--json"):
        for arg in options.get(name, []):
            text = arg.text
            at = text.find("@")
            named = name == "--data-urlencode" and at > 0 and "=" not in text[:at]
            if at != -1 and (at == 0 or text[at - 1] == "=" or named):
                fx.read([(text[at + 1 :].split(";", 1)[0], arg.dynamic)])
            elif text.startswith("<") or "=<" in text:
                fx.read([(text.split("<", 1)[1], arg.dynamic)])
    for name in ("-T", "--upload-file", "-K", "--config", "--cert", "--key", "-b", "--cookie"):
        if name in ("-b", "--cookie"):
            fx.read([v for a in options.get(name, []) if "=" not in a.text for v in a.values])
            continue
        fx.read(_values(options.get(name, [])))


def _wget(args: list[Arg], fx: Effects) -> None:
    unbundled: list[Arg] = []
    for arg in args:  # `-qO-`, `-qO file`: the O of a bundle of short flags takes a value
        text = arg.text
        if text.startswith("-") and not text.startswith("--") and "O" in text[2:]:
            flags, _, value = text[1:].partition("O")
            unbundled.append(Arg([(f"-{flags}", False)]))
            unbundled.append(Arg([("-O", False)]))
            if value:
                unbundled.append(Arg([(value, arg.dynamic)]))
        else:
            unbundled.append(arg)
    args = unbundled
    options, operands = split(
        args,
        frozenset(
            {
                "-O",
                "--output-document",
                "-P",
                "--directory-prefix",
                "-o",
                "-a",
                "-i",
                "--input-file",
                "-U",
                "--header",
                "-t",
                "-T",
            }
        ),
    )
    outputs = options.get("-O", []) + options.get("--output-document", [])
    fx.write([v for v in _values(outputs) if v[0] != "-"])
    fx.write(_values(options.get("-o", []) + options.get("-a", [])))
    fx.read(_values(options.get("-i", []) + options.get("--input-file", [])))
    if not outputs:
        prefix = (options.get("-P") or options.get("--directory-prefix") or [Arg([("", False)])])[
            0
        ].text
        for url in operands:
            name = url.text.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or "index.html"
            fx.write([(os.path.join(prefix, name) if prefix else name, url.dynamic)])


def _find(args: list[Arg], fx: Effects) -> None:
    paths: list[Arg] = []
    index = 0
    while index < len(args) and not args[index].text.startswith(("-", "(", "!")):
        paths.append(args[index])
        index += 1
    roots = _values(paths) or [(".", False)]
    expression = args[index:]
    texts = [a.text for a in expression]
    if "-delete" in texts:
        fx.delete(roots)
    for flag in ("-fprint", "-fprint0", "-fprintf", "-fls"):
        if flag in texts and texts.index(flag) + 1 < len(expression):
            fx.write(expression[texts.index(flag) + 1].values)
    for position, text in enumerate(texts):
        if text in ("-exec", "-execdir", "-ok", "-okdir"):
            end = next(
                (i for i in range(position + 1, len(texts)) if texts[i] in (";", "+", r"\;")),
                len(texts),
            )
            argv = expression[position + 1 : end]
            # `{}` stands for every file found under the roots
            found = [Arg(roots) if a.text == "{}" else a for a in argv]
            fx.run(found)


def _xargs(args: list[Arg], fx: Effects) -> None:
    for index, arg in enumerate(args[:-1]):
        if arg.text in ("-a", "--arg-file"):
            fx.read(args[index + 1].values)
    _, rest = _skip_options(
        args,
        frozenset(
            {
                "-I",
                "-n",
                "-P",
                "-L",
                "-d",
                "-E",
                "-s",
                "-a",
                "--arg-file",
                "--max-args",
                "--max-procs",
                "--delimiter",
                "--replace",
            }
        ),
    )
    if not rest:
        return
    # the command gets more arguments from stdin: unknown files
    fx.run([*rest, Arg([("*", True)])])


def _skip_options(args: list[Arg], valued: frozenset[str]) -> tuple[list[Arg], list[Arg]]:
    index = 0
    while index < len(args) and args[index].text.startswith("-") and not args[index].dynamic:
        index += 2 if args[index].text in valued else 1
    return args[:index], args[index:]


def _openssl(args: list[Arg], fx: Effects) -> None:
    if args and args[0].text in ("dgst", "sha256", "sha1", "md5", "base64", "asn1parse"):
        valued = {"-in", "-out", "-sign", "-verify", "-signature", "-keyform", "-passin"}
        skipped = {i + 1 for i, a in enumerate(args) if a.text in valued}
        fx.read(
            [
                value
                for i, arg in enumerate(args[1:], 1)
                if i not in skipped and not arg.text.startswith("-")
                for value in arg.values
            ]
        )
    for index, arg in enumerate(args[:-1]):
        if arg.text in ("-pass", "-passout") and args[index + 1].text.startswith("file:"):
            value = args[index + 1]
            fx.read([(value.text.removeprefix("file:"), value.dynamic)])
        if arg.text in (
            "-in",
            "-inkey",
            "-CAfile",
            "-CA",
            "-CAkey",
            "-signkey",
            "-kfile",
            "-passin",
            "-config",
        ):
            value = args[index + 1]
            if arg.text == "-passin" and not value.text.startswith("file:"):
                continue
            fx.read([(value.text.removeprefix("file:"), value.dynamic)])
        elif arg.text in ("-out", "-keyout"):
            fx.write(args[index + 1].values)


def _ssh(args: list[Arg], fx: Effects) -> None:
    for index, arg in enumerate(args[:-1]):
        if arg.text in ("-i", "-F"):
            fx.read(args[index + 1].values)
        elif arg.text == "-o" and args[index + 1].text.lower().startswith("identityfile="):
            fx.read([(args[index + 1].text.split("=", 1)[1], args[index + 1].dynamic)])


def _scp(args: list[Arg], fx: Effects) -> None:
    _ssh(args, fx)
    _copy("scp")(
        [
            a
            for i, a in enumerate(args)
            if not (i and args[i - 1].text in ("-i", "-F", "-P", "-o", "-l", "-c"))
        ],
        fx,
    )


def _docker(args: list[Arg], fx: Effects) -> None:
    words: list[str] = []  # the subcommand so far: `-f` is a file only for build and compose
    for index, arg in enumerate(args):
        following = args[index + 1] if index + 1 < len(args) else None
        if arg.text == "--env-file" and following:
            fx.read(following.values)
        elif arg.text.startswith("--env-file="):
            fx.read([(arg.text.split("=", 1)[1], arg.dynamic)])
        elif arg.text in ("-f", "--file") and following and following.text != "-":
            if words in ([], ["compose"], ["build"], ["buildx", "build"], ["image", "build"]):
                fx.read(following.values)
        elif not arg.text.startswith("-") and not (
            index and args[index - 1].text in ("-f", "--file", "--env-file")
        ):
            words.append(arg.text)


def _ssh_keygen(args: list[Arg], fx: Effects) -> None:
    valued = frozenset({"-f", "-t", "-b", "-C", "-N", "-P", "-m", "-E", "-n", "-I", "-s", "-V"})
    options, _ = split(args, valued)
    files = options.get("-f", [])
    for index, arg in enumerate(args[:-1]):  # `-lf FILE`: f at the end of a bundle
        text = arg.text
        if (
            text.startswith("-")
            and not text.startswith("--")
            and len(text) > 2
            and text.endswith("f")
        ):
            files.append(args[index + 1])
    examines = any(
        o.startswith("-") and not o.startswith("--") and set(o[1:]) & set("lyBei") for o in options
    )
    if examines:
        fx.read(_values(files))
    else:  # generating: the key and its .pub
        fx.write(_values(files) + [(t + ".pub", d) for t, d in _values(files)])


def _aws(args: list[Arg], fx: Effects) -> None:
    words = [a for a in args if not a.text.startswith("-")]
    if len(words) >= 2 and words[0].text == "s3" and words[1].text in ("cp", "mv", "sync"):
        _copy("mv" if words[1].text == "mv" else "cp")(words[2:], fx)
    for arg in args:
        if arg.text.startswith(("file://", "fileb://")):
            fx.read([(arg.text.split("://", 1)[1], arg.dynamic)])


def _kubectl(args: list[Arg], fx: Effects) -> None:
    for index, arg in enumerate(args):
        text = arg.text
        for flag in ("--from-env-file", "--from-file", "--filename", "--kustomize"):
            if text.startswith(flag + "="):
                fx.read([(text.split("=", 1)[1].split("=", 1)[-1], arg.dynamic)])
            elif text == flag and index + 1 < len(args):
                value = args[index + 1]
                fx.read([(value.text.split("=", 1)[-1], value.dynamic)])
        takes_files = args and args[0].text in (
            "apply",
            "create",
            "delete",
            "replace",
            "diff",
            "patch",
            "kustomize",
            "set",
        )
        if (
            takes_files
            and text in ("-f", "-k")
            and index + 1 < len(args)
            and args[index + 1].text != "-"
        ):
            fx.read(args[index + 1].values)


def _pip(args: list[Arg], fx: Effects) -> None:
    for index, arg in enumerate(args[:-1]):
        if arg.text in ("-r", "--requirement", "-c", "--constraint"):
            fx.read(args[index + 1].values)
    for arg in args:
        if arg.text.startswith(("--requirement=", "--constraint=")):
            fx.read([(arg.text.split("=", 1)[1], arg.dynamic)])


def _uv(args: list[Arg], fx: Effects) -> None:
    if args and args[0].text == "pip":
        _pip(args[1:], fx)


class _Rebased:
    """Effects whose relative paths are under ``base`` (`git -C dir`, `make -C dir`)."""

    def __init__(self, inner: Effects, base: str) -> None:
        self.inner = inner
        self.base = base

    def _move(self, values: list[Value]) -> list[Value]:
        return [
            (t if t.startswith(("/", "~")) else os.path.normpath(os.path.join(self.base, t)), d)
            for t, d in values
        ]

    def read(self, values: list[Value]) -> None:
        self.inner.read(self._move(values))

    def write(self, values: list[Value]) -> None:
        self.inner.write(self._move(values))

    def delete(self, values: list[Value]) -> None:
        self.inner.delete(self._move(values))

    def into(self, directory: list[Value], sources: list[list[Value]]) -> None:
        self.inner.into(self._move(directory), sources)

    def run(self, argv: list[Arg]) -> None:
        self.inner.run(argv)

    def script(self, text: str) -> None:
        self.inner.script(text)

    def inline(self, language: str, code: str) -> None:
        self.inner.inline(language, code)

    def dynamic_note(self, kind: str, why: str) -> None:
        self.inner.dynamic_note(kind, why)


def _output_option(
    names: tuple[str, ...], *, reads_operands: bool = False
) -> Callable[[list[Arg], Effects], None]:
    """Compilers and converters: `-o FILE` is written; operands read when asked."""

    def handler(args: list[Arg], fx: Effects) -> None:
        options, operands = split(
            args, frozenset(names) | {"-I", "-L", "-l", "-D", "-f", "-t", "-x", "-std", "-include"}
        )
        fx.write(_values([a for name in names for a in options.get(name, [])]))
        if reads_operands:
            fx.read([v for a in operands if "." in a.text for v in a.values])

    return handler


def _go(args: list[Arg], fx: Effects) -> None:
    if args and args[0].text in ("build", "install"):
        options, _ = split(
            args[1:], frozenset({"-o", "-ldflags", "-tags", "-gcflags", "-mod", "-p"})
        )
        fx.write(_values(options.get("-o", [])))


def _formatter(
    check_flags: tuple[str, ...], write_flags: tuple[str, ...] = ()
) -> Callable[[list[Arg], Effects], None]:
    """black, ruff format, prettier --write, eslint --fix …: they rewrite the files they are given
    (unless only checking); their paths are read and written."""

    def handler(args: list[Arg], fx: Effects) -> None:
        texts = {a.text for a in args}
        if texts & set(check_flags):
            return
        if write_flags and not texts & set(write_flags):
            return
        _, operands = split(
            args,
            frozenset(
                {
                    "--config",
                    "-c",
                    "--line-length",
                    "-l",
                    "--target-version",
                    "--ext",
                    "--ignore-path",
                    "--plugin",
                }
            ),
        )
        files = [v for a in operands if a.text not in ("check", "format") for v in a.values]
        fx.read(files)
        fx.write(files)

    return handler


def _ruff(args: list[Arg], fx: Effects) -> None:
    if args and args[0].text == "format":
        _formatter(("--check", "--diff"))(args[1:], fx)
    elif (
        args
        and args[0].text == "check"
        and any(a.text in ("--fix", "--unsafe-fixes") for a in args)
    ):
        _formatter(("--diff",))(args[1:], fx)


def _npx(args: list[Arg], fx: Effects) -> None:
    rest = _after(args, frozenset({"-p", "--package", "-c", "--call"}))
    if rest:
        fx.run(rest)


def _after(args: list[Arg], valued: frozenset[str]) -> list[Arg]:
    index = 0
    while index < len(args) and args[index].text.startswith("-"):
        index += 2 if args[index].text in valued else 1
    return args[index:]


def _gzip(args: list[Arg], fx: Effects) -> None:
    options, operands = split(args, frozenset({"-S", "--suffix"}))
    flags = "".join(o[1:] for o in options if not o.startswith("--"))
    to_stdout = "c" in flags or "--stdout" in options
    listing = "l" in flags or "t" in flags
    for arg in operands:
        fx.read(arg.values)
        if to_stdout or listing:
            continue
        decompressing = "d" in flags or "--decompress" in options
        outputs = [(t.rsplit(".", 1)[0] if decompressing else t + ".gz", d) for t, d in arg.values]
        fx.write(outputs)
        if not ("k" in flags or "--keep" in options):
            fx.write(arg.values)  # replaced by its (de)compressed form


def _gunzip(args: list[Arg], fx: Effects) -> None:
    _gzip([Arg([("-d", False)]), *args], fx)


def _sqlite(args: list[Arg], fx: Effects) -> None:
    _, operands = split(args, frozenset({"-cmd", "-separator", "-init"}))
    if operands and operands[0].text != ":memory:":
        fx.write(operands[0].values)  # opened read-write, created if missing


def _docker_cp(args: list[Arg], fx: Effects) -> None:
    if len(args) >= 3 and args[0].text == "cp":
        _copy("cp")(args[1:], fx)
    elif args and args[0].text == "compose":
        _docker(args, fx)
    else:
        _docker(args, fx)


def _crontab(args: list[Arg], fx: Effects) -> None:
    options, operands = split(args, frozenset({"-u"}))
    if not any(o in options for o in ("-l", "-e", "-r")):
        fx.read(_values(operands))


def _python_module(fx: Effects, module: str, rest: list[Arg]) -> bool:
    if module == "json.tool":
        fx.read([v for a in rest[:1] if not a.text.startswith("-") for v in a.values])
    elif module == "pip":
        _pip(rest, fx)
    elif module in ("venv", "virtualenv"):
        fx.write([v for a in rest if not a.text.startswith("-") for v in a.values])
    elif module in ("black", "isort"):
        _formatter(("--check", "--diff", "-c"))(rest, fx)
    elif module == "ruff":
        _ruff(rest, fx)
    else:
        return False
    return True


def _source(args: list[Arg], fx: Effects) -> None:
    if args:
        fx.read(args[0].values)


def _jq(args: list[Arg], fx: Effects) -> None:
    pairs = [i for i, a in enumerate(args) if a.text in ("--slurpfile", "--rawfile")]
    for index in pairs:  # --slurpfile NAME FILE
        if index + 2 < len(args):
            fx.read(args[index + 2].values)
    args = [a for i, a in enumerate(args) if not any(p <= i <= p + 2 for p in pairs)]
    options, operands = split(
        args,
        frozenset(
            {"--arg", "--argjson", "--slurpfile", "--rawfile", "-f", "--from-file", "--indent"}
        ),
    )
    from_file = options.get("-f", []) + options.get("--from-file", [])
    fx.read(_values(from_file))
    files = operands if from_file else operands[1:]
    fx.read(_values(files))


def _head_tail(args: list[Arg], fx: Effects) -> None:
    # `head -5 file`, `tail -n +2 file`
    _, operands = split(args, frozenset({"-n", "-c", "--lines", "--bytes", "-s", "--pid"}))
    fx.read(_values([a for a in operands if not (a.text[:1] in "+-" and a.text[1:].isdigit())]))


# options of grep-like searches that take a value (the value is no path)
_GREP_VALUED = frozenset(
    {"-e", "--regexp", "-f", "--file", "-A", "-B", "-C", "-m", "--max-count", "--include",
     "--exclude", "--exclude-dir", "--color", "--context"}
)  # fmt: skip
_RG_VALUED = frozenset(
    {"-g", "--glob", "-t", "--type", "-T", "--type-not", "-j", "--max-depth", "-M",
     "--max-columns", "-r", "--replace"}
)  # fmt: skip
_GREP_PATTERN = ("-e", "--regexp", "-f", "--file")  # options that give the pattern

_READERS_VALUED = {
    "xxd": frozenset({"-c", "-l", "-s", "-g", "-o", "-n"}),
    "od": frozenset({"-j", "-N", "-A", "-t", "-w", "-S"}),
    "fold": frozenset({"-w"}),
    "column": frozenset({"-s", "-t", "-c", "-o"}),
    "shasum": frozenset({"-a", "--algorithm"}),
    "diff": frozenset({"-U", "-C", "--label", "-L", "-x", "-X"}),
    "nl": frozenset({"-b", "-v", "-i", "-w", "-s"}),
}
_READERS = frozenset(
    {
        "cat",
        "less",
        "more",
        "tac",
        "nl",
        "base64",
        "xxd",
        "od",
        "strings",
        "wc",
        "md5sum",
        "sha1sum",
        "sha256sum",
        "sha512sum",
        "cksum",
        "b2sum",
        "hexdump",
        "diff",
        "cmp",
        "comm",
        "paste",
        "file",
        "zcat",
        "gunzip",
        "bat",
        "view",
        "column",
        "fold",
        "fmt",
        "expand",
        "rev",
        "iconv",
        "shasum",
    }
)

COMMANDS: dict[str, Callable[[list[Arg], Effects], None]] = {
    **{name: _reads_all(_READERS_VALUED.get(name, frozenset())) for name in _READERS},
    "cut": _reads_all(frozenset({"-d", "-f", "-c", "-b", "--delimiter", "--fields"})),
    "head": _head_tail,
    "tail": _head_tail,
    "sort": _sort,
    "uniq": _uniq,
    "grep": _pattern_first(_GREP_VALUED, _GREP_PATTERN),
    "egrep": _pattern_first(_GREP_VALUED, _GREP_PATTERN),
    "fgrep": _pattern_first(_GREP_VALUED, _GREP_PATTERN),
    "zgrep": _pattern_first(_GREP_VALUED, _GREP_PATTERN),
    "rg": _pattern_first(_GREP_VALUED | _RG_VALUED, _GREP_PATTERN),
    "ag": _pattern_first(frozenset({"-A", "-B", "-C", "-m", "-G"}), ()),
    "awk": _awk,
    "gawk": _awk,
    "mawk": _awk,
    "sed": _sed,
    "gsed": _sed,
    "jq": _jq,
    "yq": _jq,
    "source": _source,
    ".": _source,
    "tee": _tee,
    "touch": _touch,
    "truncate": _writes_all(frozenset({"-s", "--size", "-r", "--reference"})),
    "mkdir": _writes_all(frozenset({"-m", "--mode"})),
    "mkfifo": _writes_all(frozenset({"-m"})),
    "chmod": _mode_first,
    "chown": _mode_first,
    "chgrp": _mode_first,
    "rm": _deletes_all(),
    "rmdir": _deletes_all(),
    "unlink": _deletes_all(),
    "shred": _shred,
    "cp": _copy("cp"),
    "mv": _copy("mv"),
    "install": _copy("install"),
    "ln": _copy("ln"),
    "rsync": _copy("rsync"),
    "scp": _scp,
    "dd": _dd,
    "tar": _tar,
    "gtar": _tar,
    "bsdtar": _tar,
    "zip": _zip,
    "unzip": _unzip,
    "patch": _patch,
    "git": _git,
    "curl": _curl,
    "wget": _wget,
    "find": _find,
    "xargs": _xargs,
    "openssl": _openssl,
    "sponge": _writes_all(),
    "gcc": _output_option(("-o",), reads_operands=True),
    "cc": _output_option(("-o",), reads_operands=True),
    "clang": _output_option(("-o",), reads_operands=True),
    "g++": _output_option(("-o",), reads_operands=True),
    "pandoc": _output_option(("-o", "--output")),
    "go": _go,
    "black": _formatter(("--check", "--diff")),
    "isort": _formatter(("--check", "--check-only", "--diff", "-c")),
    "prettier": _formatter((), ("--write", "-w")),
    "eslint": _formatter((), ("--fix",)),
    "gofmt": _formatter((), ("-w",)),
    "rustfmt": _formatter(("--check",)),
    "ruff": _ruff,
    "npx": _npx,
    "bunx": _npx,
    "gzip": _gzip,
    "gunzip": _gunzip,
    "sqlite3": _sqlite,
    "crontab": _crontab,
    "ssh-keygen": _ssh_keygen,
    "aws": _aws,
    "kubectl": _kubectl,
    "pip": _pip,
    "pip3": _pip,
    "uv": _uv,
    "ssh": _ssh,
    "docker": _docker_cp,
    "podman": _docker,
    "docker-compose": _docker,
    **{name: _interpreter(name) for name in LANGUAGES},
}

# Commands that only run another command: (options that take a value, positional words to skip)
WRAPPERS: dict[str, tuple[frozenset[str], int]] = {
    "sudo": (
        frozenset({"-u", "-g", "-U", "-C", "-h", "-p", "-r", "-t", "-D", "--user", "--group"}),
        0,
    ),
    "doas": (frozenset({"-u", "-C"}), 0),
    "nice": (frozenset({"-n", "--adjustment"}), 0),
    "ionice": (frozenset({"-c", "-n", "-p"}), 0),
    "nohup": (frozenset(), 0),
    "timeout": (frozenset({"-s", "--signal", "-k", "--kill-after"}), 1),
    "time": (frozenset({"-f", "-o", "--format", "--output"}), 0),
    "command": (frozenset(), 0),
    "builtin": (frozenset(), 0),
    "exec": (frozenset({"-a"}), 0),
    "stdbuf": (frozenset({"-i", "-o", "-e"}), 0),
    "caffeinate": (frozenset(), 0),
    "chronic": (frozenset(), 0),
    "unbuffer": (frozenset(), 0),
    "watch": (frozenset({"-n", "--interval", "-d"}), 0),
    "strace": (frozenset({"-o", "-e", "-p", "-s"}), 0),
}
SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "fish"})
