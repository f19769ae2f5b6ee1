"""One-way layers (issue #19; docs/architecture.md): every module imports alone, no module
imports a higher layer, no import circle between files, no private ``_name`` imported from
another module.  Imports inside functions count (they are how circles hide).  Today's known
violations are listed below with their reason; the lists may only shrink: a new violation
fails, and so does an entry that no longer occurs (delete it).

``python tests/architecture/test_architecture_layers.py`` prints today's violations in the
allowlist format.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"
PKG = SRC / "memodels"

# The layer order, lowest first (docs/architecture.md).  A module may import its own layer
# and lower ones.  The longest matching prefix decides a module's layer.
LAYERS: list[tuple[str, ...]] = [
    # 0 foundation: errors, the model specification dataclasses, version, file reading,
    #   the bundled data catalogue (each imports at most errors)
    ("memodels._version", "memodels.errors", "memodels.spec", "memodels.io",
     "memodels.datasets"),
    ("memodels.syntax",),                                  # 1 Stata syntax and formulas
    ("memodels.design",),                                  # 2 data -> design matrices
    # 3 building blocks: covariance structures, families/links, quadrature rules, and the
    #   survival distributions/stset (families of mestreg; survival.results is higher)
    ("memodels.covariance", "memodels.families", "memodels.quadrature",
     "memodels.survival"),
    # 4 engines: optimizer, GLM start values, LMM, GLMM (glmm imports glm, lmm, optimize)
    ("memodels.optimize", "memodels.glm", "memodels.lmm", "memodels.glmm"),
    ("memodels.results", "memodels.survival.results"),     # 5 result objects
    ("memodels.postestimation",),                          # 6 predict, margins, estat, tests
    ("memodels.output",),                                  # 7 Stata-style text output
    ("memodels.plot",),                                    # 8 graphs
    # 9 Dask back end: imported by commands (commands hand a Dask frame to it), so it
    #   sits below commands, not above as first planned (#15)
    ("memodels.distributed",),
    ("memodels.commands",),                                # 10 estimation commands
    # 11 front doors: the package facade, the session (do-files) and the console
    ("memodels", "memodels.__main__", "memodels.session", "memodels.cli"),
]

# Upward imports known today (importer, imported), all inside functions.  Each is a
# back edge of a circle; the plan to remove them is in docs/architecture.md.
KNOWN_UPWARD: dict[tuple[str, str], str] = {
    # results methods delegate to postestimation and output (plan: postestimation takes
    # results through a documented protocol; results methods call a registry)
    ("memodels.results.base", "memodels.postestimation"): "results methods -> postestimation",
    ("memodels.results.base", "memodels.postestimation.estat"): "results.estat()",
    ("memodels.results.base", "memodels.postestimation.margins"): "results.margins()",
    ("memodels.results.base", "memodels.postestimation.predict"): "results.predict()",
    ("memodels.results.base", "memodels.postestimation.quadchk"): "results.quadchk()",
    ("memodels.results.base", "memodels.output.stata_text"): "results.display()",
    ("memodels.results.glmm", "memodels.postestimation.margins_glmm"): "results.margins()",
    ("memodels.results.glmm", "memodels.output.glmm_text"): "results.display()",
    ("memodels.results.meqr", "memodels.output.stata_text"): "results.display()",
    ("memodels.survival.results", "memodels.postestimation.predict_survival"): "predict()",
    ("memodels.survival.results", "memodels.postestimation.margins_survival"): "margins()",
    ("memodels.survival.results", "memodels.postestimation.stcurve"): "stcurve()",
    ("memodels.survival.results", "memodels.output.glmm_text"): "display()",
    # bootstrap and quadchk refit the model: they are commands living in postestimation
    ("memodels.postestimation.bootstrap", "memodels.commands.dispatch"): "refits",
    ("memodels.postestimation.bootstrap", "memodels.output.bootstrap_text"): "its table",
    ("memodels.postestimation.quadchk", "memodels.commands.dispatch"): "refits",
    # arrive with the Dask branch (#15): the distributed fit reuses the command checks
    ("memodels.distributed.glmm", "memodels.commands.me_checks"): "#15 command checks",
    ("memodels.distributed.glmm", "memodels.commands.meglm"): "#15 command entry",
    # already on the integration branch (7090130), listed for the merge: more results
    # methods delegating upward (summary(), random_effects(), newdata predictions)
    ("memodels.results.base", "memodels.output.summary"): "results.summary()",
    ("memodels.results.base", "memodels.postestimation.groups"): "results.random_effects()",
    ("memodels.results.base", "memodels.postestimation.newdata"): "predict on new data",
    ("memodels.results.base", "memodels.postestimation.surface"): "results methods",
    ("memodels.survival.results", "memodels.postestimation.newdata"): "predict on new data",
}

# Same-layer edges (inside functions) that close a circle (importer, imported).
KNOWN_CIRCLE_EDGES: dict[tuple[str, str], str] = {
    # on the integration branch (7090130), listed for the merge: the session imports the
    # console's handlers and two handlers call back into the session (plan: a session
    # state module that the handlers import, a command registry the dispatcher reads).
    # Here the handlers name Session only under TYPE_CHECKING, which is no circle.
    ("memodels.cli.control", "memodels.session"): "is_command_word, split_prefixes",
    ("memodels.cli.cmd_by", "memodels.session"): "resolve_command, split_prefixes",
    ("memodels.results.base", "memodels.results.persist"): "results.save() (integ)",
    # the base class's replay copy needs the concrete classes (plan: each class
    # registers its replay builder)
    ("memodels.results.base", "memodels.results.replay"): "replay_copy()",
    # meglm's fit drops the constant of ordinal models; me_ordinal calls fit_me (plan:
    # the GLMM fit options dataclass carries the ordinal flag)
    ("memodels.commands.meglm", "memodels.commands.me_ordinal"): "drop_constant",
    # predict dispatches to the GLMM predictions, which reuse predict's helpers (plan:
    # the shared helpers in a module below both)
    ("memodels.postestimation.predict", "memodels.postestimation.predict_glmm"): "dispatch",
}

# Private names imported from another module (importer, imported, name).  Plan: each
# becomes a public helper of the lower module when its (busy) importer is next edited.
KNOWN_PRIVATE: dict[tuple[str, str, str], str] = {
    ("memodels.results.replay", "memodels.syntax.options", "_level"):
        "alias of syntax.options.level_value; results/ busy",
    ("memodels.postestimation.blup", "memodels.lmm.profiled", "_sparse_z"):
        "alias of lmm.profiled.sparse_z; postestimation/ busy",
    ("memodels.postestimation.margins_glmm", "memodels.postestimation.predict_glmm",
     "_outcome_index"): "postestimation/ busy",
    **{("memodels.postestimation.predict_survival", "memodels.postestimation.predict", n):
       "shared prediction helpers; postestimation/ busy"
       for n in ("_cov_values", "_level_terms", "_per_obs_effects", "_re_contribution",
                 "_xb_stdp")},
    **{("memodels.postestimation.predict_glmm", "memodels.postestimation.predict", n):
       "shared prediction helpers; postestimation/ busy"
       for n in ("_cov_values", "_level_terms", "_per_obs_effects", "_re_contribution",
                 "_xb_stdp")},
    ("memodels.postestimation.predict_glmm", "memodels.postestimation.frame", "_numeric"):
        "postestimation/ busy",
    ("memodels.postestimation.scores_glmm", "memodels.results.glmm", "_blocks"):
        "variance-block layout; plan: the parameter-naming module",
    ("memodels.postestimation.nonlinear", "memodels.postestimation.wald", "_items"):
        "postestimation/ busy",
    ("memodels.commands.me_start", "memodels.results.glmm", "_blocks"):
        "variance-block layout; plan: the parameter-naming module",
    ("memodels.commands.mestreg", "memodels.commands.meglm", "_check_supported"):
        "commands/ busy; plan: the GLMM fit options dataclass",
    ("memodels.commands.mestreg", "memodels.commands.meglm", "_engine_kwargs"):
        "commands/ busy; plan: the GLMM fit options dataclass",
}


@functools.cache
def _modules() -> dict[str, Path]:
    mods = {}
    for p in PKG.rglob("*.py"):
        parts = p.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = p
    return mods


@functools.cache
def _all_imports() -> list[tuple[str, str, str | None, bool]]:
    return _imports(_modules())


def _imports(mods: dict[str, Path]) -> list[tuple[str, str, str | None, bool]]:
    """(importer, imported module, imported name or None, runtime) for every import of a
    memodels module, module-level or inside functions; ``runtime`` is False under
    ``if TYPE_CHECKING:``."""
    out = []
    for m, p in mods.items():
        tree = ast.parse(p.read_text())
        typing_only: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                typing_only |= {id(n) for b in node.body for n in ast.walk(b)}
        pkg = m if p.name == "__init__.py" else m.rsplit(".", 1)[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                for a in node.names:
                    sub = f"{mod}.{a.name}"
                    if sub in mods:
                        out.append((m, sub, None, id(node) not in typing_only))
                    elif mod in mods:
                        out.append((m, mod, a.name, id(node) not in typing_only))
            elif isinstance(node, ast.Import):
                out.extend((m, a.name, None, id(node) not in typing_only)
                           for a in node.names if a.name in mods)
    return [e for e in out if e[0] != e[1]]


def _layer(mod: str) -> int:
    best, rank = -1, None
    for i, prefixes in enumerate(LAYERS):
        for pre in prefixes:
            if (mod == pre or mod.startswith(pre + ".")) and len(pre) > best:
                best, rank = len(pre), i
    assert rank is not None, f"{mod}: assign it a layer in LAYERS and docs/architecture.md"
    return rank


def upward() -> set[tuple[str, str]]:
    return {(a, b) for a, b, _, _ in _all_imports() if _layer(b) > _layer(a)}


def private() -> set[tuple[str, str, str]]:
    return {(a, b, n) for a, b, n, _ in _all_imports()
            if n and n.startswith("_") and not n.startswith("__")}


def circles(skip: set[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components (more than one module) of the runtime import graph
    without the ``skip`` edges."""
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for a, b, _, runtime in _all_imports():
        if runtime and (a, b) not in skip:
            graph[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _present(entries, mods) -> list:
    """Entries whose two modules exist here (those of unmerged branches wait)."""
    return [e for e in entries if e[0] in mods and e[1] in mods]


def test_every_module_has_a_layer():
    for m in _modules():
        _layer(m)


def test_no_new_upward_import():
    new = sorted(upward() - set(KNOWN_UPWARD))
    assert not new, ("a lower layer imports a higher one (see docs/architecture.md); "
                     f"move the shared code down instead: {new}")


def test_no_import_circle():
    skip = set(KNOWN_UPWARD) | set(KNOWN_CIRCLE_EDGES)
    found = circles(skip)
    assert not found, f"import circles between files: {found}"


def test_no_new_private_import():
    new = sorted(private() - set(KNOWN_PRIVATE))
    assert not new, ("a private name imported from another module: make it a public "
                     f"helper (with a docstring) of the lower module: {new}")


def test_allowlists_only_shrink():
    """An allowlisted violation that no longer occurs must be deleted from the list."""
    mods = _modules()
    edges = {(a, b) for a, b, _, _ in _all_imports()}
    stale = [e for e in _present(KNOWN_UPWARD, mods) if e not in edges]
    skip = set(KNOWN_UPWARD) | set(KNOWN_CIRCLE_EDGES)
    stale += [e for e in _present(KNOWN_CIRCLE_EDGES, mods)
              if e not in edges or not circles(skip - {e})]  # no longer closes a circle
    now_private = private()
    stale += [e for e in _present(KNOWN_PRIVATE, mods) if e not in now_private]
    assert not stale, f"fixed: delete these allowlist entries: {stale}"


# Each module imported alone: one interpreter loads the third-party libraries once, then
# forks a child per module; the child starts with no memodels module loaded and a bare
# ``memodels`` package (its facade ``__init__`` is tested on its own), so the module must
# import everything it needs itself, in any order.
_CHILD = r"""
import importlib, json, os, sys, traceback, types
src, names = sys.argv[1], json.loads(sys.argv[2])
sys.path.insert(0, src)
import memodels  # load the third-party libraries the package uses, once
for n in names:
    if n != "memodels.__main__":
        try:
            importlib.import_module(n)
        except BaseException:
            pass  # the child of that module reports it
for k in [k for k in sys.modules if k == "memodels" or k.startswith("memodels.")]:
    del sys.modules[k]
failures = {}
for n in names:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            if n == "memodels":
                importlib.import_module("memodels")
            else:
                bare = types.ModuleType("memodels")
                bare.__path__ = [os.path.join(src, "memodels")]
                sys.modules["memodels"] = bare
                if n == "memodels.__main__":
                    importlib.util.find_spec(n)  # running it would start the console
                else:
                    importlib.import_module(n)
            code = 0
        except BaseException:
            os.write(w, traceback.format_exc()[-1500:].encode())
            code = 1
        os._exit(code)
    os.close(w)
    msg = b""
    while chunk := os.read(r, 4096):
        msg += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if status:
        failures[n] = msg.decode()
print(json.dumps(failures))
"""


def test_each_module_imports_alone():
    import pytest

    if not hasattr(os, "fork"):
        pytest.skip("needs os.fork")
    names = sorted(_modules())
    env = dict(os.environ, MPLBACKEND="Agg")
    out = subprocess.run([sys.executable, "-c", _CHILD, str(SRC), json.dumps(names)],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    failures = json.loads(out.stdout.strip().splitlines()[-1])
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())


def test_layer_order_is_documented():
    doc = (REPO / "docs" / "architecture.md").read_text()
    for prefixes in LAYERS:
        for pre in prefixes:
            if pre != "memodels":
                assert f"`{pre.removeprefix('memodels.')}`" in doc, pre


if __name__ == "__main__":
    mods = _modules()
    print("upward:", *sorted(upward()), sep="\n  ")
    print("private:", *sorted(private()), sep="\n  ")
    print("circles (no skip):", *circles(set()), sep="\n  ")
