"""Parse a Stata multilevel estimation command into a :class:`~memodels.spec.ModelSpec`.

Grammar ([ME] mixed, Syntax, manual lines 14293-14338; [ME] meglm, lines 2462-2500)::

    cmd depvar fe_equation [|| re_equation] [|| re_equation ...] [, options]
    fe_equation: [indepvars] [if] [in] [weight] [, fe_options]
    re_equation: levelvar: [varlist] [, re_options]
                 levelvar: R.varname [, re_options]

* ``levelvar`` is a variable or ``_all``; equations are listed outermost level first.
* ``indepvars`` may use factor-variable notation (:mod:`memodels.syntax.factor`);
  random-effects varlists may use abbreviations, wildcards and ranges but not factor
  variables (only ``R.varname``, which implies ``noconstant``).
* Options after an equation's comma: those in the equation's table (fe_options /
  re_options) belong to the equation; any other valid option is global (Stata lets
  global options follow any equation, usually the last one).  ``noconstant`` after the
  fixed equation sets ``ModelSpec.noconstant``; after a random-effects equation it is
  that equation's.
* Weights ``[fw=exp]`` ``[pw=exp]`` ``[iw=exp]`` ``[aw=exp]`` (also ``fweight`` etc.,
  restricted to those the command allows) and level weights ``fweight(exp)``,
  ``pweight(exp)``, ``iweight(exp)`` in random-effects options.
* ``in f/l``, ``in #``, ``in -5/l``, ``in f/10``.
* ``mestreg`` has no depvar (the outcome is the ``stset`` time): every variable is an
  indepvar and ``ModelSpec.depvar`` is ``"_t"``.

Variables named inside options (``offset()``, ``exposure()``, ``binomial()``,
``residuals(..., t() by())``, ``vce(cluster v)``) and in weight expressions (level-1
and level weights: Stata drops observations with missing weights) are resolved and
listed in ``ModelSpec.extra_vars``.  Variables of the ``if`` expression are *not*
listed there (``if x > 5`` selects observations with missing ``x``); use
:func:`memodels.syntax.expressions.expression_variables` on ``if_expr``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from memodels.errors import OptionError, StataSyntaxError, VariableNotFoundError
from memodels.spec import FixedTerm, InRange, ModelSpec, REEquation, Weight
from memodels.syntax.command_names import (
    COMMAND_ALIASES,
    ESTIMATION_COMMANDS,
    normalize_command,
)
from memodels.syntax.expressions import expression_variables, parse_expression
from memodels.syntax.factor import parse_fixed_stream
from memodels.syntax.option_values import finish_options
from memodels.syntax.options import (
    ME_COMMANDS,
    MEQR_COMMANDS,
    OptionTable,
    apply_def,
    command_tables,
    iter_option_items,
    keyword_table,
    normalize_keywords,
    set_option,
    split_covariance,
)
from memodels.syntax.tokens import (
    EOF,
    NAME,
    NUMBER,
    TokenStream,
    split_top_level,
    tokenize,
)
from memodels.syntax.varlist import parse_varlist_tokens, resolve_single

# weight types each command accepts ([ME] mixed: fw pw; [ME] meglm: fw iw pw)
_WEIGHT_KINDS = {
    "fw": "fweight",
    "fweight": "fweight",
    "frequency": "fweight",
    "pw": "pweight",
    "pweight": "pweight",
    "iw": "iweight",
    "iweight": "iweight",
    "aw": "aweight",
    "aweight": "aweight",
    "cellsize": "aweight",
}
_ALLOWED_WEIGHTS: dict[str, tuple[str, ...]] = {"mixed": ("fweight", "pweight")}
for _c in ME_COMMANDS:
    _ALLOWED_WEIGHTS[_c] = ("fweight", "iweight", "pweight")
for _c in MEQR_COMMANDS:
    _ALLOWED_WEIGHTS[_c] = ()

_PREFIXES = ("quietly", "qui", "quiet", "noisily", "noi", "capture", "cap")


def split_prefixes(cmdline: str) -> tuple[tuple[str, ...], str, str]:
    """Split ``[prefix ...] command rest`` -> (prefixes, command, rest).

    Recognized prefixes: ``quietly``/``noisily``/``capture`` (and abbreviations
    ``qui``, ``noi``, ``cap``) and ``svy:`` / ``svy, opts:``.  The command name is
    normalized (aliases ``xtmixed``, ``xtmelogit``, ``xtmepoisson``).
    """
    text = cmdline.strip()
    if text.startswith("."):
        text = text[1:].strip()
    prefixes: list[str] = []
    while True:
        m = re.match(r"([A-Za-z_]\w*)", text)
        if not m:
            raise StataSyntaxError(f"no command in {cmdline!r}")
        word = m.group(1)
        if word in _PREFIXES:
            prefixes.append(word)
            text = text[m.end() :].strip()
            continue
        if word == "svy":
            colon = text.find(":")
            if colon < 0:
                raise StataSyntaxError("svy prefix requires ':'")
            prefixes.append(text[:colon].strip())
            text = text[colon + 1 :].strip()
            continue
        rest = text[m.end() :]
        return tuple(prefixes), normalize_command(word), rest.strip()


def split_command(cmdline: str) -> tuple[str, str]:
    """``"mixed weight week || id:"`` -> ``("mixed", "weight week || id:")``.

    Leading ``quietly``/``capture``/``svy:`` prefixes are skipped; aliases
    ``xtmixed`` -> ``mixed``, ``xtmelogit`` -> ``meqrlogit``, ``xtmepoisson`` ->
    ``meqrpoisson``.  An unknown command raises :class:`StataSyntaxError` naming it.
    """
    _, cmd, rest = split_prefixes(cmdline)
    return cmd, rest


def is_replay(text: str) -> bool:
    """True for a replay call (``mixed``, ``mixed, small``): no model, only options."""
    return text.strip() == "" or text.strip().startswith(",")


def _split_equation(segment: str) -> tuple[str, str]:
    """``"body, options"`` -> (body, options text) at the first top-level comma."""
    parts = split_top_level(segment, ",")
    body = parts[0][1]
    opts = segment[parts[1][0] :] if len(parts) > 1 else ""
    return body, opts


def _looks_like_formula(text: str) -> bool:
    return re.match(r"^\s*([A-Za-z_][\w.]*|cbind\([^()~]*\))?\s*~(?!=)", text) is not None


# ---------------------------------------------------------------- fixed equation parts
def _take_if(stream: TokenStream, text: str) -> str:
    """Consume the ``if`` expression; it ends at a top-level ``in`` or ``[``."""
    start_tok = stream.peek()
    depth = 0
    while True:
        tok = stream.peek()
        if tok.kind == EOF:
            break
        if tok.is_op("(", "["):
            if tok.text == "[" and depth == 0:
                break
            depth += 1
        elif tok.is_op(")", "]"):
            depth -= 1
        elif depth == 0 and tok.is_name("in", "if"):
            break
        stream.next()
    end = stream.peek().start if stream.peek().kind != EOF else len(text)
    expr = text[start_tok.start : end].strip()
    if not expr:
        raise StataSyntaxError("if requires an expression")
    return expr


def _range_bound(stream: TokenStream) -> int:
    tok = stream.next()
    neg = False
    if tok.is_op("-"):
        neg = True
        tok = stream.next()
    if tok.kind == NAME and tok.text in ("f", "F", "l", "L") and not neg:
        return 1 if tok.text in ("f", "F") else -1
    if tok.kind == NUMBER:
        try:
            v = int(tok.text)
        except ValueError as exc:
            raise StataSyntaxError(f"invalid observation number {tok.text!r} in in-range") from exc
        if v == 0:
            raise StataSyntaxError("observation number 0 in in-range is invalid")
        return -v if neg else v
    raise StataSyntaxError(f"invalid in-range element {tok.text or 'end of input'!r}")


def _take_in(stream: TokenStream) -> InRange:
    first = _range_bound(stream)
    if stream.accept_op("/"):
        return InRange(first, _range_bound(stream))
    return InRange(first, None)


def _weight_expression(expr: str, columns: Sequence[str]) -> tuple[str, set[str]]:
    """Validate a weight expression; a bare (possibly abbreviated) name is resolved."""
    expr = expr.strip()
    if not expr:
        raise StataSyntaxError("weight expression is empty")
    node = parse_expression(expr, columns)
    if re.fullmatch(r"[A-Za-z_]\w*", expr):
        (name,) = expression_variables(node)
        return name, {name}
    return expr, expression_variables(node)


def _take_weight(stream: TokenStream, text: str, command: str, columns: Sequence[str]) -> Weight:
    open_tok = stream.next()  # "["
    kind_tok = stream.next()
    if kind_tok.kind != NAME:
        raise StataSyntaxError(f"invalid weight specification at {kind_tok.text!r}")
    kind = _WEIGHT_KINDS.get(kind_tok.text)
    if kind is None:
        raise StataSyntaxError(f"weight type {kind_tok.text} not allowed")
    if kind not in _ALLOWED_WEIGHTS[command]:
        raise StataSyntaxError(f"weight type {kind_tok.text} not allowed with {command}")
    stream.expect_op("=", "weight")
    start = stream.peek().start
    depth = 1
    while True:
        tok = stream.next()
        if tok.kind == EOF:
            raise StataSyntaxError(f"unbalanced brackets in {text[open_tok.start :]!r}")
        if tok.is_op("[", "("):
            depth += 1
        elif tok.is_op(")"):
            depth -= 1
        elif tok.is_op("]"):
            depth -= 1
            if depth == 0:
                end = tok.start
                break
    expr, _ = _weight_expression(text[start:end], columns)
    return Weight(kind, expr)  # type: ignore[arg-type]


def _parse_fixed_body(
    body: str, command: str, columns: Sequence[str]
) -> tuple[str, tuple[FixedTerm, ...], str | None, InRange | None, Weight | None]:
    stream = TokenStream(tokenize(body), body)
    if command == "mestreg":
        depvar = "_t"
    else:
        tok = stream.peek()
        if tok.kind != NAME or tok.text in ("if", "in"):
            found = tok.text or "end of input"
            raise StataSyntaxError(f"depvar required: found {found!r}")
        stream.next()
        nxt = stream.peek()
        if nxt.is_op(".") and nxt.start == tok.end:
            raise StataSyntaxError(
                f"depvar {tok.text}.{stream.peek(1).text} may not be a factor variable"
            )
        if nxt.is_op("-") and stream.peek(1).kind == NAME:
            raise StataSyntaxError(
                f"depvar must be a single variable: {tok.text}-{stream.peek(1).text}"
            )
        try:
            depvar = resolve_single(tok.text, columns)
        except VariableNotFoundError:
            raise
        except StataSyntaxError as exc:
            raise StataSyntaxError(f"depvar {tok.text} must be a single variable") from exc
    terms = parse_fixed_stream(stream, body, columns)
    if_text: str | None = None
    in_range: InRange | None = None
    weight: Weight | None = None
    while not stream.at_end():
        tok = stream.peek()
        if tok.is_name("if"):
            if if_text is not None:
                raise StataSyntaxError("if specified twice")
            stream.next()
            if_text = _take_if(stream, body)
        elif tok.is_name("in"):
            if in_range is not None:
                raise StataSyntaxError("in specified twice")
            stream.next()
            in_range = _take_in(stream)
        elif tok.is_op("["):
            if weight is not None:
                raise StataSyntaxError("weights specified twice")
            weight = _take_weight(stream, body, command, columns)
        elif tok.is_op("(", ")"):
            raise StataSyntaxError(f"unbalanced parentheses at {tok.text!r} in {body.strip()!r}")
        elif tok.is_op(":"):
            raise StataSyntaxError(
                f"unexpected ':' in fixed-effects equation {body.strip()!r} (missing '||'?)"
            )
        else:
            raise StataSyntaxError(f"unexpected {tok.text!r} in fixed-effects equation")
    return depvar, terms, if_text, in_range, weight


# ---------------------------------------------------------------- random-effects equations
def _parse_re_body(body: str, columns: Sequence[str]) -> tuple[str, tuple[str, ...], str | None]:
    stream = TokenStream(tokenize(body), body)
    if stream.at_end():
        raise StataSyntaxError("'||' must be followed by a random-effects equation 'levelvar:'")
    tok = stream.next()
    if tok.kind != NAME or not stream.peek().is_op(":"):
        raise StataSyntaxError(
            f"random-effects equation {body.strip()!r} must start with 'levelvar:'"
        )
    stream.next()
    level = "_all" if tok.text == "_all" else resolve_single(tok.text, columns)
    nxt = stream.peek()
    if nxt.is_name("R") and stream.peek(1).is_op(".") and stream.peek(1).start == nxt.end:
        stream.next()
        stream.next()
        vt = stream.next()
        if vt.kind != NAME:
            raise StataSyntaxError(f"R. requires a variable name, found {vt.text!r}")
        rfactor = resolve_single(vt.text, columns)
        if not stream.at_end():
            raise StataSyntaxError(
                f"R.{vt.text} may not be combined with other variables ({stream.peek().text!r})"
            )
        return level, (), rfactor
    variables = parse_varlist_tokens(stream, columns)
    if not stream.at_end():
        bad = stream.peek()
        if bad.is_op(".") or bad.is_op("#", "##"):
            raise StataSyntaxError(
                f"factor-variable notation not allowed in random-effects equation {body.strip()!r}"
            )
        if bad.is_name("if", "in") or bad.is_op("["):
            raise StataSyntaxError(
                f"{bad.text} not allowed in random-effects equation {body.strip()!r}"
            )
        raise StataSyntaxError(f"unexpected {bad.text!r} in random-effects equation")
    return level, tuple(variables), None


# ---------------------------------------------------------------- options
def _classify(
    opts_text: str,
    local_table: OptionTable,
    global_table: OptionTable,
    global_out: dict[str, Any],
) -> dict[str, Any]:
    """Split option text into local (equation) options and global options."""
    local: dict[str, Any] = {}
    for name, arg in iter_option_items(opts_text):
        d = local_table.find(name)
        if d is not None:
            key, value = apply_def(d, arg, name)
            set_option(local, d, key, value)
            continue
        d = global_table.lookup(name)
        key, value = apply_def(d, arg, name)
        set_option(global_out, d, key, value, exclusive=True)
    return local


def _level_weight(local: dict[str, Any], columns: Sequence[str], extra: list[str]) -> Weight | None:
    found = [k for k in ("fweight", "pweight", "iweight") if k in local]
    if len(found) > 1:
        raise OptionError(f"only one level weight allowed: {' '.join(found)}")
    if not found:
        return None
    kind = found[0]
    expr, names = _weight_expression(str(local.pop(kind)), columns)
    extra.extend(sorted(names))
    return Weight(kind, expr)  # type: ignore[arg-type]


def _unique(names: Sequence[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for n in names:
        seen.setdefault(n, None)
    return tuple(seen)


# ---------------------------------------------------------------- main entry
def _drop_command_word(text: str, cmd: str, columns: list[str]) -> str:
    """``memodels.mixed("mixed weight week || id:", df)``: a command line pasted whole
    into its own command -- drop the command word unless it names a variable."""
    first, _, rest = text.strip().partition(" ")
    if first and first not in columns and COMMAND_ALIASES.get(first, first) == cmd:
        return rest
    return text


_CACHE: dict[tuple, ModelSpec] = {}
_CACHE_SIZE = 64
_SCALARS = (str, int, float, bool, type(None))


def _cache_key(text: str, command: str, columns: Sequence[str],
               options: Mapping[str, Any] | None) -> tuple | None:
    """The key of a parse in :data:`_CACHE`: the text, the command, the column names
    and the keyword options -- or None (not cached) for an lme4 formula (whose parse
    depends on the column types) or options other than plain scalars."""
    if not isinstance(text, str) or _looks_like_formula(text):
        return None
    opts: tuple = ()
    if options:
        if not all(isinstance(v, _SCALARS) for v in options.values()):
            return None
        opts = tuple(sorted((str(k), type(v).__name__, v) for k, v in options.items()))
    return (text, command, tuple(str(c) for c in columns), opts)


def _fresh_copy(spec: ModelSpec) -> ModelSpec:
    """A copy whose option dicts the caller may change without touching the cache."""
    return replace(spec, options=dict(spec.options), equations=tuple(
        replace(e, options=dict(e.options)) for e in spec.equations))


def parse_model(
    text: str,
    command: str,
    columns: Sequence[str],
    *,
    options: Mapping[str, Any] | None = None,
) -> ModelSpec:
    """:func:`parse_model_uncached`, remembering the last parses of Stata syntax (keyed by
    the text, command, column names and keyword options; a parse depends on nothing
    else), so that refitting one model costs no parsing."""
    try:
        key = _cache_key(text, command, columns, options)
        hash(key)
    except TypeError:
        key = None
    if key is not None and key in _CACHE:
        return _fresh_copy(_CACHE[key])
    spec = parse_model_uncached(text, command, columns, options=options)
    if key is not None:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = _fresh_copy(spec)
    return spec


def parse_model_uncached(
    text: str,
    command: str,
    columns: Sequence[str],
    *,
    options: Mapping[str, Any] | None = None,
) -> ModelSpec:
    """Parse the text after the command name into a resolved :class:`ModelSpec`.

    ``columns`` is the data's column order (used for abbreviations, wildcards and
    ranges), or the DataFrame itself (an lme4 formula then makes string/Categorical
    columns factors and names its transforms' columns as formulaic does on it).
    ``options`` are Python keyword options (``reml=True``, ``covariance="un"``,
    ``level=90`` ...) normalized like option text and merged over
    it; a keyword ``covariance`` applies to every random-effects equation without its
    own.  Text containing an lme4 formula (``y ~ x + (1|g)``) is passed to
    :func:`memodels.syntax.formula.parse_formula`.

    >>> spec = parse_model("weight week || id:", "mixed", ["id", "week", "weight"])
    >>> spec.depvar, [e.level for e in spec.equations]
    ('weight', ['id'])
    """
    cmd = normalize_command(command)
    if _looks_like_formula(text):
        from memodels.syntax.formula import parse_formula

        data = columns if hasattr(columns, "dtypes") else None
        return parse_formula(text, cmd, list(columns), options=options, data=data)
    columns = [str(c) for c in columns]
    text = _drop_command_word(text, cmd, columns)
    if is_replay(text):
        raise StataSyntaxError(f"{cmd}: depvar required (replaying results is not a model)")
    fe_table, re_table, global_table = command_tables(cmd)
    segments = split_top_level(text, "||")
    global_opts: dict[str, Any] = {}
    extra: list[str] = []

    # fixed-effects equation
    fe_body, fe_opts_text = _split_equation(segments[0][1])
    depvar, terms, if_text, in_range, weight = _parse_fixed_body(fe_body, cmd, columns)
    fe_local = _classify(fe_opts_text, fe_table, global_table, global_opts)
    noconstant = bool(fe_local.pop("noconstant", False))
    global_opts.update(fe_local)  # offset(), exposure(), binomial(), asis
    if_expr = parse_expression(if_text, columns) if if_text is not None else None
    if weight is not None:
        extra.extend(sorted(expression_variables(parse_expression(weight.expression, columns))))

    # random-effects equations
    equations: list[REEquation] = []
    for _, seg in segments[1:]:
        body, opts_text = _split_equation(seg)
        if not body.strip():
            raise StataSyntaxError("'||' must be followed by a random-effects equation 'levelvar:'")
        level, variables, rfactor = _parse_re_body(body, columns)
        local = _classify(opts_text, re_table, global_table, global_opts)
        lw = _level_weight(local, columns, extra)
        cov = local.pop("covariance", None)
        cov_name, cov_mat = split_covariance(cov) if cov is not None else (None, None)
        eq_noconstant = bool(local.pop("noconstant", False)) or rfactor is not None
        collinear = bool(local.pop("collinear", False))
        equations.append(
            REEquation(
                level=level,
                variables=variables,
                rfactor=rfactor,
                noconstant=eq_noconstant,
                covariance=cov_name,
                covariance_matrix=cov_mat,
                collinear=collinear,
                weight=lw,
                nested=True,
                options=local,
            )
        )
    if cmd in MEQR_COMMANDS and not equations:
        raise StataSyntaxError(f"{cmd} requires at least one random-effects equation")

    # keyword options override text options
    if options:
        kw_table = keyword_table(global_table, fe_table, re_table)
        kw = normalize_keywords(options, kw_table)
        if "noconstant" in kw:
            noconstant = bool(kw.pop("noconstant"))
        kw_cov = kw.pop("covariance", None)
        kw_coll = kw.pop("collinear", None) if "collinear" not in global_table else None
        if kw_cov is not None:
            name, mat = split_covariance(kw_cov)
            equations = [
                e
                if e.covariance is not None
                else replace(e, covariance=name, covariance_matrix=mat)
                for e in equations
            ]
        if kw_coll:
            equations = [replace(e, collinear=True) for e in equations]
        for key, value in kw.items():
            d = kw_table.lookup(key)
            set_option(global_opts, d, key, value)

    if "noconstant" in global_opts:
        # noconstant after the fixed equation's options of a command without RE eqs
        noconstant = bool(global_opts.pop("noconstant")) or noconstant
    final_opts = finish_options(global_opts, columns, extra)
    if cmd == "mestreg" and "distribution" not in final_opts:
        raise OptionError("mestreg requires option distribution()")
    return ModelSpec(
        command=cmd,
        depvar=depvar,
        fixed=terms,
        noconstant=noconstant,
        equations=tuple(equations),
        if_expr=if_expr,
        if_text=if_text,
        in_range=in_range,
        weight=weight,
        options=final_opts,
        source=text,
        extra_vars=_unique([v for v in extra if v != depvar]),
    )


def parse_command(
    cmdline: str, columns: Sequence[str], *, options: Mapping[str, Any] | None = None
) -> ModelSpec:
    """Parse a full command line (``"mixed weight week || id:"``).

    Prefixes ``quietly``/``capture`` are ignored; ``svy:`` is recorded as
    ``options["svy"] = True`` (``options["svy_options"]`` holds ``svy, opts:`` text).
    """
    prefixes, cmd, rest = split_prefixes(cmdline)
    spec = parse_model(rest, cmd, columns, options=options)
    for p in prefixes:
        if p.startswith("svy"):
            extra: dict[str, Any] = {"svy": True}
            _, _, svy_opts = p.partition(",")
            if svy_opts.strip():
                extra["svy_options"] = svy_opts.strip()
            spec = spec.with_options(**extra)
    return spec


__all__ = [
    "COMMAND_ALIASES",
    "ESTIMATION_COMMANDS",
    "is_replay",
    "normalize_command",
    "parse_command",
    "parse_model",
    "split_command",
    "split_prefixes",
]
