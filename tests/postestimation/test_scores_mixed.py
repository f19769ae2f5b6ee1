"""``predict, scores`` after mixed ([ME] mixed postestimation): one score per
highest-level group, on its last record, in e(b)'s estimation metric; checked against the
closed-form derivatives of a random-intercept model's group log likelihood."""

from __future__ import annotations

import numpy as np
import pytest

import memodels
from memodels.errors import OptionError
from memodels.session import Session
from support import fitted, load_dataset


def test_random_intercept_scores_closed_form():
    pig = load_dataset("pig")
    res = fitted("pig", "mixed weight week || id:")
    sc = res.predict("scores", data=pig)
    beta = res.fe_params.to_numpy()
    su2 = float(np.exp(2 * res.estmetric.iloc[2]))
    se2 = float(np.exp(2 * res.estmetric.iloc[3]))
    rows = sc.dropna()
    assert len(rows) == 48
    for _g, part in pig.groupby("id"):
        x = np.column_stack([part["week"], np.ones(len(part))])
        r = part["weight"].to_numpy() - x @ beta
        m = len(part)
        v = su2 * np.ones((m, m)) + se2 * np.eye(m)
        vi = np.linalg.inv(v)
        expect = list(x.T @ vi @ r)
        for dv in (2 * su2 * np.ones((m, m)), 2 * se2 * np.eye(m)):
            expect.append(-0.5 * np.trace(vi @ dv) + 0.5 * r @ vi @ dv @ vi @ r)
        last = part.index[-1]
        np.testing.assert_allclose(sc.loc[last].to_numpy(), expect, rtol=1e-5, atol=1e-7)
        assert sc.loc[part.index[:-1]].isna().all().all()
    np.testing.assert_allclose(rows.sum().to_numpy(), 0.0, atol=1e-4)  # at the optimum
    s = Session(pig)
    s.e = res
    s.run("predict sc*, scores")
    np.testing.assert_allclose(s.data["sc4"].to_numpy(), sc.iloc[:, 3].to_numpy())


def test_scores_refused_for_reml_and_three_levels():
    res = memodels.fit("mixed weight week || id:, reml", load_dataset("pig"))
    with pytest.raises(OptionError, match="reml"):
        res.predict("scores")
    three = fitted("productivity", "mixed gsp private emp || region: || state:")
    with pytest.raises(OptionError, match="two-level"):
        three.predict("scores")
