* The do-file language of a memodels session on the pig data ([ME] mixed, example 2):
*   memodels run examples/dofile_language.do
webuse pig
xtset id week

* a loop over models, the log likelihoods kept in macros
local models `"week"' `"week L.weight"'
local k 0
foreach rhs of local models {
    local ++k
    quietly mixed weight `rhs' || id:
    local ll`k' = e(ll)
    display "model `k' (`rhs'): ll = " %10.4f e(ll)
}

* within-pig quantities with by
bysort id (week): generate gain = D.weight
by id: generate first = _n == 1

* conditions (the lagged model loses each pig's first week)
if e(N) < 432 {
    display "the lagged model uses " e(N) " of 432 observations"
}
else {
    display "all observations used"
}
forvalues w = 1(4)9 {
    quietly summarize weight if week == `w'
}

* contrasts of a factor after the fit
generate period = 1 + (week > 3) + (week > 6)
quietly mixed weight i.period || id:
contrast period, effects
pwcompare period, mcompare(bonferroni)
margins period
