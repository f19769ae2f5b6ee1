"""Every option of every estimation command's syntax table in the Stata 14 [ME] manual
(shared/spec, line numbers given per table), with what it must visibly do.

Each entry is ``Opt(text, kind, line, model)``:

* ``text``: the option as typed after the comma (``cformat(%9.2f)``);
* ``kind``: what must happen when it is given (see test_option_walk.py):
  ``display`` -- the printed table changes and the fit does not (or the option is
  refused with a memodels error); ``labels`` -- the same, on data whose factors carry
  value labels; ``report`` -- the printed output changes; ``model`` -- the fit or its
  output changes; ``maximize`` -- the iteration log or the fit changes (owned by the
  maximization work); ``default`` -- it is the default: nothing changes;
  ``noop`` -- nothing can change on these data (reason in the comment);
* ``line``: the manual line of the option's row in the syntax table;
* ``model``: a model to use instead of the command's standard one (``{y}`` is the
  command's outcome), for options that need one (a random slope for ``covariance()``,
  weights...); the baseline is the same model without the option, or ``base_model``.
  Options of a random-effects equation (``re_options``) are written in ``model`` itself
  (``append=False``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Opt:
    text: str
    kind: str
    line: int
    model: str | None = None
    base_options: str = ""  # options of the baseline too (the option needs them)
    base_model: str | None = None
    append: bool = True


def re_opt(text: str, kind: str, line: int, probe: str, base: str) -> Opt:
    """An option of a random-effects equation: ``probe`` has it, ``base`` does not."""
    return Opt(text, kind, line, probe, base_model=base, append=False)


SLOPE = "{y} x || g: x"
DISPLAY_MODEL = "{y} x x2 i.f##i.h || g:"  # omitted x2, empty cell 3.f#2.h, factor blocks


def display_options(line: int) -> list[Opt]:
    """display_options ([R] estimation options) of a syntax table at ``line``."""
    return [
        Opt("noci", "display", line, DISPLAY_MODEL),
        Opt("nopvalues", "display", line, DISPLAY_MODEL),
        Opt("noomitted", "display", line, DISPLAY_MODEL),
        Opt("vsquish", "display", line, DISPLAY_MODEL),
        Opt("noemptycells", "display", line, DISPLAY_MODEL),
        Opt("baselevels", "display", line, DISPLAY_MODEL),
        Opt("allbaselevels", "display", line, DISPLAY_MODEL),
        Opt("nofvlabel", "labels", line, DISPLAY_MODEL),
        Opt("fvwrap(2)", "labels", line, DISPLAY_MODEL),
        Opt("fvwrapon(width)", "labels", line, DISPLAY_MODEL, base_options="fvwrap(2)"),
        Opt("cformat(%9.2f)", "display", line, DISPLAY_MODEL),
        Opt("pformat(%5.2f)", "display", line, DISPLAY_MODEL),
        Opt("sformat(%8.3f)", "display", line, DISPLAY_MODEL),
        # the table is 78 columns, the most linesize 80 allows: Stata cannot stretch it
        # either, so lstretch and nolstretch print the same table
        Opt("nolstretch", "noop", line, DISPLAY_MODEL),
    ]


MAXIMIZE = [  # [R] maximize, as listed in every table's maximize_options row
    "difficult", "technique(bfgs)", "iterate(1)", "nolog", "trace", "gradient",
    "showstep", "hessian", "showtolerance", "tolerance(1e-2)", "ltolerance(1e-2)",
    "nrtolerance(1e-2)", "nonrtolerance",
]


def maximize_options(line: int) -> list[Opt]:
    return [Opt(text, "maximize", line) for text in MAXIMIZE]


# ----------------------------------------------------------------------- mixed
MIXED = [  # [ME] mixed, Syntax, L14321-14375
    re_opt("noconstant", "model", 14326, "{y} x, noconstant || g:", "{y} x || g:"),
    re_opt("covariance(unstructured)", "model", 14333, "{y} x || g: x, cov(un)", SLOPE),
    re_opt("noconstant", "model", 14334, "{y} x || g: x, noconstant", SLOPE),
    re_opt("collinear", "model", 14335, "{y} x || g: x x2, collinear", "{y} x || g: x x2"),
    re_opt("fweight(fw)", "model", 14336, "{y} x || g:, fweight(fw)", "{y} x || g:"),
    re_opt("pweight(pw)", "model", 14337, "{y} x || g:, pweight(pw)", "{y} x || g:"),
    Opt("mle", "default", 14341),
    Opt("reml", "model", 14342),
    Opt("dfmethod(residual)", "model", 14343),
    # pwscale() scales observation-level sampling weights
    Opt("pwscale(effective)", "model", 14344, "{y} x [pw=pw1] || g:, pweight(pw)"),
    Opt("residuals(ar 1, t(t))", "model", 14345),
    Opt("vce(robust)", "model", 14347),
    Opt("level(90)", "report", 14349),
    Opt("variance", "default", 14350),
    Opt("stddeviations", "report", 14351),
    Opt("dftable(pvalue)", "report", 14352, base_options="dfmethod(residual)"),
    Opt("norettable", "report", 14353),
    Opt("nofetable", "report", 14354),
    Opt("estmetric", "report", 14355),
    Opt("noheader", "report", 14356),
    Opt("nogroup", "report", 14357),
    Opt("nostderr", "report", 14358),
    Opt("nolrtest", "report", 14359),
    *display_options(14360),
    Opt("emiterate(1)", "maximize", 14362),
    Opt("emtolerance(1e-2)", "maximize", 14363),
    Opt("emonly", "model", 14364),
    Opt("emlog", "maximize", 14365),
    Opt("emdots", "maximize", 14366),
    *maximize_options(14368),
    Opt("matsqrt", "default", 14369),
    Opt("matlog", "maximize", 14370),
    Opt("small", "report", 14371),  # replay only: refused at estimation
    Opt("coeflegend", "display", 14372, DISPLAY_MODEL),
]


# ------------------------------------------------------------- me commands
def me_common(table: int, *, eform: str | None, binomial: bool = False,
              count: bool = False) -> list[Opt]:
    """The options every me command shares, at the line of its options table
    (``table``; rows follow in the manual's order)."""
    out = [
        re_opt("noconstant", "model", table - 12, "{y} x, noconstant || g:", "{y} x || g:"),
        re_opt("covariance(unstructured)", "model", table - 7, "{y} x || g: x, cov(un)",
               SLOPE),
        re_opt("noconstant", "model", table - 6, "{y} x || g: x, noconstant", SLOPE),
        re_opt("fweight(fw)", "model", table - 5, "{y} x || g:, fweight(fw)", "{y} x || g:"),
        re_opt("iweight(fw)", "model", table - 4, "{y} x || g:, iweight(fw)", "{y} x || g:"),
        re_opt("pweight(pw)", "model", table - 3, "{y} x || g:, pweight(pw)", "{y} x || g:"),
        Opt("constraints(1)", "model", table + 2),
        Opt("collinear", "model", table + 3, DISPLAY_MODEL),
        Opt("vce(robust)", "model", table + 5),
        Opt("level(90)", "report", table + 7),
        Opt("nocnsreport", "report", table + 9, base_options="constraints(1)"),
        Opt("notable", "report", table + 10),
        Opt("noheader", "report", table + 11),
        Opt("nogroup", "report", table + 12),
        Opt("nolrtest", "report", table + 13),
        *display_options(table + 14),
        Opt("intmethod(laplace)", "model", table + 16),
        Opt("intmethod(ghermite)", "model", table + 16),
        Opt("intmethod(mcaghermite)", "model", table + 16),
        Opt("intmethod(mvaghermite)", "default", table + 16),
        Opt("intpoints(3)", "model", table + 17),
        *maximize_options(table + 19),
        Opt("startvalues(zero)", "maximize", table + 20),
        Opt("startgrid", "maximize", table + 21),
        Opt("noestimate", "report", table + 22),
        Opt("dnumerical", "maximize", table + 23),
        Opt("coeflegend", "display", table + 24, DISPLAY_MODEL),
    ]
    if eform:
        out.append(Opt(eform, "report", table + 8))
    if binomial:
        out.append(Opt("binomial(3)", "model", table + 1, "{y}3 x || g:",
                       base_model="{y} x || g:"))
    if count:
        out += [Opt("exposure(expo)", "model", table - 11),
                Opt("offset(off)", "model", table - 10)]
    return out


MEGLM = [  # [ME] meglm, Syntax, L2485-2545 (options table at L2505)
    *me_common(2505, eform="eform", count=True),
    Opt("family(poisson)", "model", 2507),
    Opt("link(probit)", "model", 2508),
    Opt("asis", "noop", 2494),  # no perfect predictor in the data: nothing to retain
]
MELOGIT = [*me_common(4410, eform="or", binomial=True), Opt("asis", "noop", 4400)]
MEPROBIT = [*me_common(9093, eform=None, binomial=True), Opt("asis", "noop", 9083)]
MECLOGLOG = [*me_common(1594, eform="eform", binomial=True), Opt("asis", "noop", 1584)]
MEPOISSON = me_common(8208, eform="irr", count=True)
MENBREG = [*me_common(5430, eform="irr", count=True),
           Opt("dispersion(constant)", "model", 5432)]
def ordinal(table: int, eform: str | None) -> list[Opt]:
    """meologit / meoprobit: no constant (fe_options: offset() only)."""
    return [*[o for o in me_common(table, eform=eform) if o.line != table - 12],
            Opt("offset(off)", "model", table - 12)]


MEOLOGIT = ordinal(6398, "or")
MEOPROBIT = ordinal(7280, None)
MESTREG = [  # [ME] mestreg, options table at L12760
    *[o for o in me_common(12760, eform=None) if o.text != "noconstant"],
    re_opt("noconstant", "model", 12748, "{y} x, noconstant || g:", "{y} x || g:"),
    Opt("offset(off)", "model", 12749),
    Opt("distribution(exponential)", "model", 12764),
    Opt("time", "model", 12765),
    Opt("nohr", "report", 12772),
    Opt("tratio", "report", 12773, base_options="time"),
    Opt("noshow", "report", 12774),
]


def meqr(table: int, eform: str, binomial: bool) -> list[Opt]:
    """[ME] meqrlogit / meqrpoisson options tables (L10025, L11638)."""
    out = [
        re_opt("noconstant", "model", table - 6, "{y} x, noconstant || g:", "{y} x || g:"),
        re_opt("covariance(unstructured)", "model", table - 4, "{y} x || g: x, cov(un)",
               SLOPE),
        re_opt("noconstant", "model", table - 3, "{y} x || g: x, noconstant", SLOPE),
        re_opt("collinear", "model", table - 2, "{y} x || g: x x2, collinear",
               "{y} x || g: x x2"),
        Opt("level(90)", "report", table + 5),
        Opt(eform, "report", table + 6),
        Opt("variance", "default", table + 7),
        Opt("stddeviations", "report", table + 8),
        Opt("norettable", "report", table + 9),
        Opt("nofetable", "report", table + 10),
        Opt("estmetric", "report", table + 11),
        Opt("noheader", "report", table + 12),
        Opt("nogroup", "report", table + 13),
        Opt("nolrtest", "report", table + 14),
        *display_options(table + 15),
        Opt("intpoints(3)", "model", table + 17),
        Opt("laplace", "model", table + 18),
        *maximize_options(table + 20),
        Opt("retolerance(1e-2)", "maximize", table + 21),
        Opt("reiterate(1)", "maximize", table + 22),
        Opt("matsqrt", "default", table + 23),
        Opt("matlog", "maximize", table + 24),
        Opt("refineopts(iterate(0))", "maximize", table + 25),
        Opt("coeflegend", "display", table + 26, DISPLAY_MODEL),
    ]
    if binomial:
        out.append(Opt("binomial(3)", "model", table + 3, "{y}3 x || g:",
                       base_model="{y} x || g:"))
    return out


# command -> (outcome, the command's standard model options, its options)
COMMANDS: dict[str, tuple[str, str, list[Opt]]] = {
    "mixed": ("yg", "", MIXED),
    "meglm": ("yb", "family(bernoulli)", MEGLM),
    "melogit": ("yb", "", MELOGIT),
    "meprobit": ("yb", "", MEPROBIT),
    "mecloglog": ("yb", "", MECLOGLOG),
    "mepoisson": ("yc", "", MEPOISSON),
    "menbreg": ("yc", "", MENBREG),
    "meologit": ("yo", "", MEOLOGIT),
    "meoprobit": ("yo", "", MEOPROBIT),
    "mestreg": ("", "distribution(weibull)", MESTREG),
    "meqrlogit": ("yb", "", meqr(10025, "or", True)),
    "meqrpoisson": ("yc", "", meqr(11638, "irr", False)),
}
