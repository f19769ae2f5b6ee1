* [ME] me, example 6: the meta-analysis of nine diuretics trials, both ways the manual
* fits it, as a do-file:   memodels run examples/meta_analysis.do
webuse diuretics

* (1) the trials' variances fixed by a covariance(fixed()) matrix
mkmat varor, mat(f)
mat f = diag(f)
qui tabulate trial, gen(tr)
meglm or || _all: tr1-tr9, nocons cov(fixed(f)) intm(laplace) nocnsreport
estimates store fixed

* (2) one random slope on the standard errors, its variance constrained to 1
constraint 1 _b[var(std[trial]):_cons] = 1
meglm or || trial: std, nocons constraints(1)

* both give theta = -.5166151 (.2059448); the log likelihoods agree
scalar ll_fixed = e(ll)
quietly estimates restore fixed
display "difference in log likelihood: " %9.2e ll_fixed - e(ll)
