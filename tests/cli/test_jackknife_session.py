"""The jackknife prefix ([R] jackknife): delete-one-cluster refits and the jackknife VCE,
against leave-one-out fits computed here."""

from __future__ import annotations

import numpy as np
import pytest

import memodels
from memodels.errors import OptionError
from memodels.session import Session
from support import load_dataset


def test_cluster_jackknife_vce_matches_leave_one_out_fits():
    pig = load_dataset("pig")
    pig = pig[pig["id"] <= 12].copy()
    s = Session(pig)
    text = s.run("jackknife, cluster(id): mixed weight week || id:")
    ests = np.vstack([memodels.fit("mixed weight week || id:", pig[pig["id"] != g])
                      .params.to_numpy() for g in range(1, 13)])
    dev = ests - ests.mean(axis=0)
    v = 11 / 12 * dev.T @ dev
    np.testing.assert_allclose(s.e.vcov.to_numpy(), v, rtol=1e-5)
    np.testing.assert_allclose(s.e.bse.to_numpy(), np.sqrt(np.diag(v)), rtol=1e-5)
    assert "Jackknife: 12 of 12 clusters in id" in text
    b, vw = s.e.params["week"], v[0, 0]
    assert s.e.wald[0] == pytest.approx(b * b / vw, rel=1e-5)
    with pytest.raises(OptionError, match="expression lists"):
        s.run("jackknife _b[week]: mixed weight week || id:")


def test_jackknife_table_lincom_and_test_use_t_on_clusters_minus_one_df():
    # [R] jackknife: e(df_r) = number of clusters - 1; t statistics and intervals
    from scipy import stats

    pig = load_dataset("pig")
    pig = pig[pig["id"] <= 12].copy()
    s = Session(pig)
    text = s.run("jackknife, cluster(id): mixed weight week || id:")
    assert s.e.extra["df_r"] == 11
    row = next(r for r in s.e.rows if r.name == "week")
    b, se = row.estimate, row.se
    crit = stats.t.ppf(0.975, 11)
    assert row.p == pytest.approx(2 * stats.t.sf(abs(b / se), 11), rel=1e-10)
    np.testing.assert_allclose(row.ci(), (b - crit * se, b + crit * se), rtol=1e-12)
    assert "P>|t|" in text and "P>|z|" not in text
    s.run("lincom week")
    assert s.r["df"] == 11 and s.r["p"] == pytest.approx(row.p, rel=1e-10)
    s.run("test week")
    assert s.r["F"] == pytest.approx((b / se) ** 2, rel=1e-8) and s.r["df_r"] == 11
    assert "F(  1,     11)" in text and f"{(b / se) ** 2:.2f}" in text
    assert "Prob > F" in text and "chi2(" not in text
