"""The layering holds without tricks: every import of an lstmkit module (at module level or inside a
function) goes to the same or a lower layer, no module imports another package's private names, and
function-level imports of another lstmkit package exist only in the CLI (where they keep
`lstmkit --help` and argument errors fast)."""

import ast
from pathlib import Path

import lstmkit

SRC = Path(lstmkit.__file__).parent
LAYERS = {  # lowest first; see the README's "Layout"
    "errors": 0, "utils": 0, "": 0, "persist": 1, "nn": 2, "data": 3, "datasets": 3, "models": 4, "export": 5, "train": 5,
    "estimators": 6, "evaluation": 7, "serve": 7, "viz": 7, "experiments": 7, "cli": 8,
}


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports():
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        module = ".".join(rel.parts).removesuffix(".__init__")
        tree = ast.parse(path.read_text())
        top_level = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "lstmkit":
                yield module, node.module, [a.name for a in node.names], id(node) in top_level, node.lineno
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.split(".")[0] == "lstmkit":
                        yield module, a.name, [], id(node) in top_level, node.lineno


def test_every_import_goes_down_the_layers():
    bad = []
    for module, target, _, _, line in _imports():
        src, dst = _package(module), _package(target)
        if LAYERS[dst] > LAYERS[src]:
            bad.append(f"{module}:{line} imports {target} (layer {dst!r} is above {src!r})")
    assert not bad, "\n".join(bad)


def test_no_private_names_across_packages():
    bad = [f"{module}:{line} imports {names} from {target}" for module, target, names, _, line in _imports()
           if _package(module) != _package(target) and any(n.startswith("_") and not n.endswith("__") for n in names)]
    assert not bad, "\n".join(bad)


def test_function_level_lstmkit_imports_only_in_the_cli():
    bad = [f"{module}:{line} imports {target} inside a function" for module, target, _, top, line in _imports()
           if not top and _package(module) not in ("cli", _package(target))]
    assert not bad, "\n".join(bad)
