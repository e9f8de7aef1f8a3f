"""Files that inline interpreter code (``python -c``, ``node -e``, ``perl -e``, ``ruby -e``)
opens, found by pattern: literal paths only; a computed path is not guessed."""

from __future__ import annotations

import re

_Q = r"""(['"`])([^'"`]+)\1"""
# (language, regex, group holding the path, kind or the group holding an open mode)
_PATTERNS: list[tuple[frozenset[str], re.Pattern[str], str]] = [
    (frozenset({"python"}), re.compile(r"open\(\s*" + _Q + r"\s*(?:,\s*(?:mode\s*=\s*)?['\"]([^'\"]*)['\"])?"), "mode"),
    (frozenset({"python"}), re.compile(r"Path\(\s*" + _Q + r"\s*\)\s*\.\s*(write_text|write_bytes|touch|mkdir)"), "write"),
    (frozenset({"python"}), re.compile(r"Path\(\s*" + _Q + r"\s*\)\s*\.\s*(read_text|read_bytes)"), "read"),
    (frozenset({"python"}), re.compile(r"Path\(\s*" + _Q + r"\s*\)\s*\.\s*(unlink|rmdir)"), "delete"),
    (frozenset({"python"}), re.compile(r"(?:os\.(?:remove|unlink)|shutil\.rmtree)\(\s*" + _Q), "delete"),
    (frozenset({"python"}), re.compile(r"json\.load\(\s*open\(\s*" + _Q), "read"),
    (frozenset({"python"}), re.compile(r"(?:os\.rename|os\.replace|shutil\.move)\(\s*" + _Q), "delete"),
    (frozenset({"python"}), re.compile(r"(?:os\.rename|os\.replace|shutil\.move|shutil\.copy2?|shutil\.copyfile|shutil\.copytree)\(\s*['\"][^'\"]+['\"]\s*,\s*" + _Q), "write"),
    (frozenset({"python"}), re.compile(r"(?:shutil\.copy2?|shutil\.copyfile|shutil\.copytree)\(\s*" + _Q), "read"),
    (frozenset({"node"}), re.compile(r"(?:writeFileSync|writeFile|appendFileSync|appendFile|createWriteStream|copyFileSync)\(\s*" + _Q), "write"),
    (frozenset({"node"}), re.compile(r"(?:readFileSync|readFile|createReadStream)\(\s*" + _Q), "read"),
    (frozenset({"node"}), re.compile(r"(?:unlinkSync|unlink|rmSync|rmdirSync)\(\s*" + _Q), "delete"),
    (frozenset({"node"}), re.compile(r"require\(\s*" + r"""(['"])(\.{1,2}/[^'"]+\.json)\1"""), "read"),
    (frozenset({"ruby"}), re.compile(r"File\.(?:write|binwrite)\(\s*" + _Q), "write"),
    (frozenset({"ruby"}), re.compile(r"File\.(?:read|readlines|foreach)\(\s*" + _Q), "read"),
    (frozenset({"ruby"}), re.compile(r"File\.(?:delete|unlink)\(\s*" + _Q), "delete"),
    (frozenset({"ruby"}), re.compile(r"FileUtils\.(?:rm_rf|rm_r|rm|rm_f|remove_dir)\(\s*" + _Q), "delete"),
    (frozenset({"ruby"}), re.compile(r"FileUtils\.(?:touch|mkdir_p|mkdir)\(\s*" + _Q), "write"),
    (frozenset({"ruby"}), re.compile(r"File\.open\(\s*" + _Q + r"\s*(?:,\s*['\"]([^'\"]*)['\"])?"), "mode"),
    (frozenset({"perl"}), re.compile(r"""open\s*\(?\s*(?:my\s+)?[$\w]+\s*,\s*['"]\s*(>>?|\+?<)\s*([^'"\s)]+)"""), "perl2"),
    (frozenset({"perl"}), re.compile(r"""open\s*\(?\s*(?:my\s+)?[$\w]+\s*,\s*['"](>>?|\+?<)['"]\s*,\s*['"]([^'"]+)['"]"""), "perl2"),
    (frozenset({"php"}), re.compile(r"file_put_contents\(\s*" + _Q), "write"),
    (frozenset({"php"}), re.compile(r"(?:file_get_contents|file|fopen|parse_ini_file)\(\s*" + _Q), "read"),
    (frozenset({"php"}), re.compile(r"unlink\(\s*" + _Q), "delete"),
    (frozenset({"perl"}), re.compile(r"""unlink\s*\(?\s*['"]([^'"]+)['"]"""), "perl-delete"),
]  # fmt: skip

LANGUAGES = {
    "python": "python", "python3": "python", "python2": "python", "pypy3": "python",
    "node": "node", "nodejs": "node", "deno": "node", "bun": "node",
    "ruby": "ruby", "perl": "perl", "php": "php",
}  # fmt: skip


def files(language: str, code: str) -> list[tuple[str, str]]:
    """``(kind, path)`` for every literal path ``code`` opens; kind is read, write or delete."""
    found: list[tuple[str, str]] = []
    for languages, pattern, how in _PATTERNS:
        if language not in languages:
            continue
        for match in pattern.finditer(code):
            if how == "mode":
                mode = match.group(3) or "r"
                kind = "write" if set(mode) & set("wax+") else "read"
                found.append((kind, match.group(2)))
            elif how == "perl2":
                found.append(("read" if match.group(1) == "<" else "write", match.group(2)))
            elif how == "perl-delete":
                found.append(("delete", match.group(1)))
            else:
                found.append((how, match.group(2)))
    return found
