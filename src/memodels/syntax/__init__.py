"""Stata-syntax layer: command lines and lme4 formulas -> :class:`memodels.spec.ModelSpec`.

Modules (one concept each):

* :mod:`~memodels.syntax.tokens` — tokenizer for Stata command text;
* :mod:`~memodels.syntax.varlist` — abbreviations, wildcards and ranges;
* :mod:`~memodels.syntax.factor` — factor-variable notation (``i.`` ``c.`` ``#`` ``##``);
* :mod:`~memodels.syntax.expressions` — ``if``/weight expressions with Stata semantics;
* :mod:`~memodels.syntax.options` — option tables and abbreviation rules;
* :mod:`~memodels.syntax.residuals` — the ``residuals()`` option of ``mixed``;
* :mod:`~memodels.syntax.parse` — the multilevel command grammar;
* :mod:`~memodels.syntax.formula` — lme4-style formulas.
"""

from memodels.syntax.expressions import (
    evaluate,
    evaluate_condition,
    expression_variables,
    parse_expression,
)
from memodels.syntax.factor import parse_fixed_terms
from memodels.syntax.formula import parse_formula
from memodels.syntax.options import (
    DISPLAY_OPTIONS,
    MAXIMIZE_OPTIONS,
    ME_FE_OPTIONS,
    ME_OPTIONS,
    ME_RE_OPTIONS,
    MEQR_OPTIONS,
    MEQR_RE_OPTIONS,
    MESTREG_OPTIONS,
    MIXED_FE_OPTIONS,
    MIXED_OPTIONS,
    MIXED_RE_OPTIONS,
    OptionDef,
    OptionTable,
    command_tables,
    normalize_covariance,
    normalize_keywords,
    parse_options,
)
from memodels.syntax.parse import (
    is_replay,
    normalize_command,
    parse_command,
    parse_model,
    split_command,
)
from memodels.syntax.residuals import ResidualSpec, parse_residuals
from memodels.syntax.tokens import Token, tokenize
from memodels.syntax.varlist import resolve_name, resolve_varlist

__all__ = [
    "DISPLAY_OPTIONS",
    "MAXIMIZE_OPTIONS",
    "ME_FE_OPTIONS",
    "ME_OPTIONS",
    "ME_RE_OPTIONS",
    "MEQR_OPTIONS",
    "MEQR_RE_OPTIONS",
    "MESTREG_OPTIONS",
    "MIXED_FE_OPTIONS",
    "MIXED_OPTIONS",
    "MIXED_RE_OPTIONS",
    "OptionDef",
    "OptionTable",
    "ResidualSpec",
    "Token",
    "command_tables",
    "evaluate",
    "evaluate_condition",
    "expression_variables",
    "is_replay",
    "normalize_command",
    "normalize_covariance",
    "normalize_keywords",
    "parse_command",
    "parse_expression",
    "parse_fixed_terms",
    "parse_formula",
    "parse_model",
    "parse_options",
    "parse_residuals",
    "resolve_name",
    "resolve_varlist",
    "split_command",
    "tokenize",
]
