"""Hand-built GLMM fits: a design from a small frame and a :class:`GLMMFit` holding chosen
estimates, so the results layer and the display are tested without the engine."""

from __future__ import annotations

import numpy as np
import pandas as pd

from memodels.covariance.structures import CovStructure
from memodels.design import build_design
from memodels.glmm.types import GLMMFit
from memodels.lmm.terms import engine_terms
from memodels.results.glmm import build_glmm_results
from memodels.syntax import parse_model

Z95 = 1.959963984540054


def design_for(command: str, spec: str, data: pd.DataFrame, **options):
    model = parse_model(spec, command, list(data.columns), options=options)
    return build_design(model, data), dict(model.options), model


def var_to_phi(var: float, se_var: float) -> tuple[float, float]:
    """A printed variance and its SE -> ln sd and se(ln sd) (se(var) = 2 var se(ln sd))."""
    return 0.5 * np.log(var), se_var / (2 * var)


def make_fit(design, beta, beta_se, *, phi, phi_vcov=None, phi_se=None, aux=(), aux_se=(),
             aux_names=(), llf=-100.0, ll_fixed=-110.0, intmethod="mvaghermite",
             intpoints=7, beta_vcov=None, structures=None) -> GLMMFit:
    terms = engine_terms(design.terms)
    if structures is None:
        structures = [t.structure for t in terms]
    beta = np.asarray(beta, float)
    phi = np.asarray(phi, float)
    aux = np.asarray(aux, float)
    nb, na, nphi = beta.size, aux.size, phi.size
    k = nb + na + nphi
    vcov = np.zeros((k, k))
    vcov[:nb, :nb] = np.diag(np.asarray(beta_se, float) ** 2) if beta_vcov is None else beta_vcov
    if na:
        vcov[nb:nb + na, nb:nb + na] = np.diag(np.asarray(aux_se, float) ** 2)
    if phi_vcov is None:
        phi_vcov = np.diag(np.asarray(phi_se, float) ** 2)
    vcov[nb + na:, nb + na:] = phi_vcov
    return GLMMFit(
        llf=llf, params=np.concatenate([beta, aux, phi]), vcov=vcov, n_beta=nb, n_aux=na,
        aux_names=tuple(aux_names), structures=structures,
        term_sources=[t.source for t in terms], converged=True, iterations=5,
        hessian_ok=True, ll_fixed=ll_fixed, intmethod=intmethod,
        intpoints=1 if intmethod == "laplace" else intpoints,
    )


def results(command, spec, data, fit_kwargs, *, family, link, options=None, **kw):
    design, opts, model = design_for(command, spec, data, **(options or {}))
    fit = make_fit(design, **fit_kwargs)
    fam = _FakeFamily(family, link, **kw)
    return build_glmm_results(design, fit, command=command, cmdline=f"{command} {spec}",
                              options=opts, family=fam, spec=model)


class _Link:
    def __init__(self, name):
        self.name = name


class _FakeFamily:
    def __init__(self, name, link, **attrs):
        self.name = name
        self.link = _Link(link)
        for key, value in attrs.items():
            setattr(self, key, value)


def bangladesh_like(n_groups: int = 60, per: int = 8, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_groups * per
    return pd.DataFrame({
        "district": np.repeat(np.arange(1, n_groups + 1), per),
        "c_use": rng.integers(0, 2, n),
        "urban": rng.integers(0, 2, n),
        "age": rng.normal(0, 9, n),
        "child1": rng.integers(0, 2, n),
        "child2": rng.integers(0, 2, n),
        "child3": rng.integers(0, 2, n),
    })


def counts_like(seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 200
    return pd.DataFrame({
        "id": np.repeat(np.arange(100), 2),
        "numvisit": rng.poisson(2, n),
        "reform": np.tile([0, 1], 100),
        "age": rng.integers(20, 60, n),
        "educ": rng.integers(8, 18, n),
        "married": rng.integers(0, 2, n),
        "badh": rng.integers(0, 2, n),
        "loginc": rng.normal(8, 0.5, n),
        "expected": rng.uniform(0.5, 3, n),
        "nation": np.repeat(np.arange(5), 40),
        "region": np.repeat(np.arange(25), 8),
    })


__all__ = ["CovStructure", "Z95", "bangladesh_like", "counts_like", "design_for", "make_fit",
           "results", "var_to_phi"]
