"""[ME] mixed, examples 1-3: growth curves of 48 pigs, random intercepts and slopes.

Run: python examples/pig_growth.py
"""

import memodels
from memodels.datasets import load

pig = load("pig")

# Example 1: random intercept (ML)
randint = memodels.mixed("weight week || id:", pig, nolog=True)
print(randint)

# Example 3: correlated random intercept and slope
randslope = memodels.mixed("weight week || id: week, covariance(unstructured)", pig, nolog=True)
print(randslope)

# the same model from an lme4-style formula, shown as standard deviations and correlations
same = memodels.mixed("weight ~ week + (1 + week | id)", pig, nolog=True, stddeviations=True)
print(same.table()[["estimate", "se", "ci_lower", "ci_upper"]])

# likelihood-ratio test of the random slope (Stata's lrtest, boundary note included)
print(memodels.lrtest(randslope, randint))
print(f"AIC {randint.aic:.3f} vs {randslope.aic:.3f}")
print(randslope.estat("sd"))  # estat sd: standard deviations and correlations
