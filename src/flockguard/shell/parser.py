"""tree-sitter-bash, loaded for the price of its two extension modules.

The ``tree_sitter`` and ``tree_sitter_bash`` packages' ``__init__`` modules import ``typing`` and
``importlib.resources`` (~10 ms on every shell action); the hook needs only the compiled
``_binding`` modules, so it loads those directly and falls back to a plain import.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tree_sitter import Parser, Tree

_PARSER: list[Parser] = []


def _extension(package: str) -> object:
    from importlib.machinery import EXTENSION_SUFFIXES, ExtensionFileLoader, ModuleSpec, PathFinder

    name = f"{package}._binding"
    if name in sys.modules:
        return sys.modules[name]
    spec = PathFinder.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for directory in locations:
        for suffix in EXTENSION_SUFFIXES:
            path = os.path.join(directory, "_binding" + suffix)
            if os.path.exists(path):
                loader = ExtensionFileLoader(name, path)
                module = loader.create_module(ModuleSpec(name, loader, origin=path))
                loader.exec_module(module)
                sys.modules[name] = module
                return module
    raise ImportError(f"no compiled {name} found")


def parser() -> Parser:
    if not _PARSER:
        try:
            binding = _extension("tree_sitter")
            bash = _extension("tree_sitter_bash")
            language = binding.Language(bash.language())  # type: ignore[attr-defined]
            _PARSER.append(binding.Parser(language))  # type: ignore[attr-defined]
        except (ImportError, OSError, AttributeError):
            import tree_sitter
            import tree_sitter_bash

            _PARSER.append(tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language())))
    return _PARSER[0]


def parse(command: str) -> Tree:
    return parser().parse(command.encode("utf-8", "surrogateescape"))
