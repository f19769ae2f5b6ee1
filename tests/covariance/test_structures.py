"""Covariance structures: the three metrics agree with each other."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memodels.covariance.structures import CovStructure


def _random_sigma(kind: str, q: int, rng) -> np.ndarray:
    if kind == "independent":
        return np.diag(rng.uniform(0.2, 3, q))
    if kind == "identity":
        return rng.uniform(0.2, 3) * np.eye(q)
    if kind == "exchangeable":
        rho = rng.uniform(-0.9 / max(q - 1, 1), 0.9) if q > 1 else 0.0
        return rng.uniform(0.2, 3) * ((1 - rho) * np.eye(q) + rho)
    a = rng.normal(size=(q, q))
    return a @ a.T + 0.3 * np.eye(q)


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(["independent", "identity", "exchangeable", "unstructured"]),
       q=st.integers(1, 4), seed=st.integers(0, 10_000))
def test_phi_and_theta_roundtrip(kind, q, seed):
    rng = np.random.default_rng(seed)
    s = CovStructure(kind, q)
    sigma = _random_sigma(kind, q, rng)
    phi = s.phi_from_sigma(sigma)
    assert phi.size == s.n_params == len(s.phi_names())
    np.testing.assert_allclose(s.sigma_from_phi(phi), sigma, rtol=1e-9, atol=1e-12)
    lam = s.relative_factor(s.theta_from_sigma(sigma))
    np.testing.assert_allclose(lam @ lam.T, sigma, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("kind,q,n", [("independent", 3, 3), ("identity", 3, 1),
                                      ("exchangeable", 3, 2), ("unstructured", 3, 6)])
def test_number_of_parameters(kind, q, n):
    s = CovStructure(kind, q)
    assert s.n_params == n
    assert len(s.reported()) == n


def test_unknown_structure():
    with pytest.raises(ValueError, match="banded"):
        CovStructure("banded", 2)
