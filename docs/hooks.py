"""MkDocs hooks: the examples of the documentation run when the site is built.

* A fenced block opened with ```` ```stata exec ```` is a do-file: it runs in a
  :class:`memodels.session.Session` kept for the whole page (so ``webuse pig`` in the
  first block serves the later ones), and the page shows the code followed by the log
  memodels prints.
* A block opened with ```` ```python exec ```` runs as Python in a namespace kept for the
  page; what it prints is shown after it.
* ``<!-- memodels-help mixed -->`` is replaced by ``memodels help mixed`` (the syntax and
  the options the parser accepts).

An example that fails stops the build with the page and the error, so the pages cannot
drift from the code.  The code is imported from this repository's ``src/``.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

_BLOCK = re.compile(r"^```(stata|python) exec[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
_HELP = re.compile(r"<!-- memodels-help (\w+) -->")


class ExampleError(RuntimeError):
    """A documentation example failed."""


def on_config(config, **kwargs):
    """docs/dask.md is written separately: in the navigation only when it exists."""
    nav = config.get("nav")
    if nav is not None and (Path(config["docs_dir"]) / "dask.md").exists():
        if not any(isinstance(item, dict) and "dask.md" in item.values() for item in nav):
            nav.append({"Dask (large data)": "dask.md"})
    return config


def _run_stata(session, code: str, where: str) -> str:
    from memodels.session import ScriptError

    try:
        return session.run_script(code)
    except ScriptError as exc:
        raise ExampleError(f"{where}: do-file example failed at line {exc.lineno} "
                           f"({exc.command}): {exc}\n{exc.log}") from exc


def _run_python(namespace: dict, code: str, where: str) -> str:
    from memodels.output.console import writing_to

    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), writing_to(out):
            exec(compile(code, where, "exec"), namespace)  # noqa: S102 - our own docs
    except Exception as exc:
        raise ExampleError(f"{where}: Python example failed: {type(exc).__name__}: {exc}"
                           ) from exc
    return out.getvalue()


def on_page_markdown(markdown: str, page, config, files) -> str:
    from memodels.cli.help_text import command_help
    from memodels.session import Session

    where = page.file.src_path
    session = Session()
    namespace: dict = {"__name__": "__docs__"}

    def block(m: re.Match) -> str:
        lang, code = m.group(1), m.group(2)
        if lang == "stata":
            log = _run_stata(session, code, where)
            return f"```stata\n{code}```\n\nOutput:\n\n```text\n{log.rstrip()}\n```\n"
        printed = _run_python(namespace, code, where)
        shown = f"```python\n{code}```\n"
        if printed.strip():
            shown += f"\nOutput:\n\n```text\n{printed.rstrip()}\n```\n"
        return shown

    markdown = _HELP.sub(lambda m: f"```text\n{command_help(m.group(1)).rstrip()}\n```",
                         markdown)
    return _BLOCK.sub(block, markdown)
