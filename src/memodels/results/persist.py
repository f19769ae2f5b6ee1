"""``res.save(path)`` and ``memodels.load(path)``: estimation results in a documented,
versioned file (not a pickle: loading never runs code from the file).

Format ``memodels-results`` version 1: a ZIP archive with two members,

* ``meta.json`` -- ``{"format": "memodels-results", "version": 1, "memodels": <version
  that wrote it>, "class": <results class, e.g. "MixedResults">, "fields": {...}}``:
  every field of the results dataclass that is plain data -- header facts (command,
  command line, title, depvar, nobs, log likelihood, convergence, iterations, number of
  parameters, Wald and LR tests, level, notes, warnings, options), the displayed rows
  (name, section, label, block, estimate, se, status, CI rule, t degrees of freedom,
  constrained), the group table, the value labels and the plain entries of ``extra``
  (the display notes); NaN as JSON ``NaN``;
* ``arrays.npz`` -- the numeric arrays: ``vcov_matrix`` (the VCE of the displayed
  estimated rows), ``estmetric`` / ``estmetric_vcov`` (Stata's e(b) and e(V) in the
  estimation metric) with their names in ``meta.json``.

What a loaded result can do (no data needed): ``summary()``/``print``, ``replay()``
with display options, ``params``, ``bse``, ``vcov``, ``tvalues``, ``pvalues``,
``conf_int()``, ``fixed_effects``, ``variance_components``, ``to_frame()``,
``llf``/``aic``/``bic``, ``compare()``, ``lrtest()``, ``test()``, ``lincom()``,
``nlcom()``, ``testnl()``.  What needs the data (refit the model): ``predict()``,
``fittedvalues``, ``resid``, ``random_effects``, ``margins()``, ``estat`` statistics
computed from the fit (wcorrelation, quadchk ...), ``bootstrap``, ``test ..., small``.
``predict``, ``random_effects`` and ``margins`` raise a memodels error naming the reason.

Classes of higher layers (``mestreg``'s) register how to save what is not plain data
(:func:`register`; the stset settings and the distribution's metric); read files with
:func:`memodels.load` (:mod:`memodels.persistence`), which knows every class.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, MemodelsError

FORMAT = "memodels-results"
VERSION = 1

# fields that hold the fit, the design or the data: not saved
_DROPPED = {"design", "fit", "spec", "family_obj", "st"}


# results classes of higher layers (mestreg's), registered by their modules with how to
# save and restore what is not plain data: name -> (class, encode, decode)
_HOOKS: dict[str, tuple[type, Callable[[Any], dict], Callable[[Any, dict], None]]] = {}


def register(cls: type, encode: Callable[[Any], dict],
             decode: Callable[[Any, dict], None]) -> None:
    """Let ``cls`` be saved: ``encode(res)`` gives a JSON-able dict stored as
    ``meta["extension"]``; ``decode(res, dict)`` restores it on the loaded results."""
    _HOOKS[cls.__name__] = (cls, encode, decode)


def _classes() -> dict[str, type]:
    from .glmm import GLMMResults
    from .meqr import MeqrResults
    from .mixed import MixedResults

    out = {c.__name__: c for c in (MixedResults, GLMMResults, MeqrResults)}
    out.update({name: hook[0] for name, hook in _HOOKS.items()})
    return out


def _plain(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=True)
    except (TypeError, ValueError):
        return False
    return True


def _row(r) -> dict:
    d = dataclasses.asdict(r)
    d["__type__"] = type(r).__name__
    return d


def _encode_field(name: str, value: Any, arrays: dict[str, np.ndarray]) -> Any:
    from .rows import ParamRow

    if isinstance(value, np.ndarray):
        arrays[name] = value
        return {"__array__": name}
    if isinstance(value, pd.Series):
        arrays[name] = value.to_numpy(float)
        return {"__series__": name, "index": [str(i) for i in value.index]}
    if isinstance(value, pd.DataFrame):
        arrays[name] = value.to_numpy(float)
        return {"__frame__": name, "index": [str(i) for i in value.index],
                "columns": [str(c) for c in value.columns]}
    if isinstance(value, list) and value and all(isinstance(v, ParamRow) for v in value):
        return [_row(r) for r in value]
    if name == "levels":
        return [dataclasses.asdict(lv) for lv in value]
    if name == "lr_test" and value is not None:
        return dataclasses.asdict(value)
    if name == "value_labels":
        return {var: [[_jsonable(k), str(v)] for k, v in labels.items()]
                for var, labels in value.items()}
    if name == "extra":
        out = {k: v for k, v in value.items() if _plain(v)}
        ddf = value.get("ddf")
        if ddf is not None:  # dfmethod(): the DDF, the adjusted VCE, the model F test
            arrays["ddf_df"], arrays["ddf_vcov"] = np.asarray(ddf.df), np.asarray(ddf.vcov)
            out["ddf"] = {"__ddf__": True, "method": ddf.method, "title": ddf.title,
                          "model_f": list(ddf.model_f) if ddf.model_f else None}
        if value.get("large_sample") is not None:  # the plain replay after dfmethod()
            rows, vmat = value["large_sample"]
            arrays["large_sample_vcov"] = np.asarray(vmat)
            out["large_sample"] = {"__large_sample__": [_row(r) for r in rows]}
        return out
    if name == "options":
        return {k: v for k, v in value.items() if _plain(v)}
    if isinstance(value, tuple):
        return {"__tuple__": list(value)}
    return value if _plain(value) else None


def _jsonable(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v if _plain(v) else str(v)


def save(res, path: str | Path) -> Path:
    """Write ``res`` to ``path`` (format of the module docstring)."""
    name = type(res).__name__
    if name not in _classes():
        raise MemodelsError(f"save: results of {res.command} ({name}) cannot be saved yet")
    arrays: dict[str, np.ndarray] = {}
    fields = {}
    for f in dataclasses.fields(res):
        if f.name in _DROPPED:
            continue
        fields[f.name] = _encode_field(f.name, getattr(res, f.name), arrays)
    from .._version import __version__

    meta = {"format": FORMAT, "version": VERSION, "memodels": __version__, "class": name,
            "fields": fields}
    if name in _HOOKS:
        meta["extension"] = _HOOKS[name][1](res)
    path = Path(path)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("meta.json", json.dumps(meta, allow_nan=True, indent=1))
        z.writestr("arrays.npz", buf.getvalue())
    return path


def _decode(name: str, value: Any, arrays) -> Any:
    from ..design.types import LevelInfo
    from .base import LRTest
    from .glmm import MERow
    from .rows import ParamRow

    if isinstance(value, dict) and "__array__" in value:
        return np.asarray(arrays[value["__array__"]])
    if isinstance(value, dict) and "__series__" in value:
        return pd.Series(np.asarray(arrays[value["__series__"]]), index=value["index"])
    if isinstance(value, dict) and "__frame__" in value:
        return pd.DataFrame(np.asarray(arrays[value["__frame__"]]), index=value["index"],
                            columns=value["columns"])
    if isinstance(value, dict) and "__tuple__" in value:
        return tuple(value["__tuple__"])
    if name == "rows":
        kinds = {"ParamRow": ParamRow, "MERow": MERow}
        out = []
        for d in value:
            d = dict(d)
            cls = kinds.get(d.pop("__type__", "ParamRow"), ParamRow)
            out.append(cls(**d))
        return out
    if name == "levels":
        return [LevelInfo(**d) for d in value]
    if name == "lr_test" and value is not None:
        return LRTest(**value)
    if name == "value_labels":
        return {var: {k: v for k, v in pairs} for var, pairs in value.items()}
    if name == "extra":
        out = dict(value)
        if isinstance(out.get("ddf"), dict) and out["ddf"].get("__ddf__"):
            from ..lmm.ddf import DDFResult

            d = out["ddf"]
            out["ddf"] = DDFResult(d["method"], np.asarray(arrays["ddf_df"]),
                                   np.asarray(arrays["ddf_vcov"]),
                                   tuple(d["model_f"]) if d["model_f"] else None, d["title"])
        if isinstance(out.get("large_sample"), dict):
            rows = _decode("rows", out["large_sample"]["__large_sample__"], arrays)
            out["large_sample"] = (rows, np.asarray(arrays["large_sample_vcov"]))
        return out
    return value


def load(path: str | Path):
    """Read results written by ``res.save(path)``."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as z:
            meta = json.loads(z.read("meta.json"))
            arrays = dict(np.load(io.BytesIO(z.read("arrays.npz")), allow_pickle=False))
    except FileNotFoundError:
        raise DataError(f"file '{path}' not found") from None
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DataError(f"'{path}' is not a memodels results file ({exc})") from None
    if meta.get("format") != FORMAT:
        raise DataError(f"'{path}' is not a memodels results file")
    if int(meta.get("version", 0)) > VERSION:
        raise DataError(f"'{path}' was written by a newer memodels (format version "
                        f"{meta['version']}; this version reads up to {VERSION})")
    cls = _classes().get(meta.get("class"))
    if cls is None:
        raise DataError(f"'{path}': unknown results class {meta.get('class')!r}")
    kwargs = {}
    names = {f.name for f in dataclasses.fields(cls)}
    for key, value in meta["fields"].items():
        if key in names:
            kwargs[key] = _decode(key, value, arrays)
    res = cls(**kwargs)
    if meta.get("class") in _HOOKS:
        _HOOKS[meta["class"]][2](res, meta.get("extension") or {})
    res.extra["loaded_from"] = str(path)
    return res


__all__ = ["FORMAT", "VERSION", "load", "register", "save"]
