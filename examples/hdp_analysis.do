* The worked melogit analysis of the hdp data (8,525 cancer patients, 407 doctors, 35
* hospitals; UCLA IDRE's "Mixed effects logistic regression" page), run as a do-file:
*
*   memodels run examples/hdp_analysis.do
*
* The shipped hdp data is the analysis's after its encode loop: familyhx, smokinghx, sex,
* cancerstage and school coded 1..k with their value labels (cancerstage I-IV).
webuse hdp

* Two-level random-intercept logit by doctor, 7-point adaptive quadrature (ll -3689.408)
melogit remission il6 crp i.cancerstage lengthofstay experience || did:, or
estat icc

* Population-averaged predicted probabilities by length of stay (the analysis's table:
* .3616372 (.0246409) at 1 day ... .2288078 (.0206373) at 10 days)
margins, at(lengthofstay=(1(1)10))

* Cluster bootstrap by doctor, each drawn doctor a new cluster (20 replications here; the
* analysis runs 100). The draws are numpy's, not Stata's: the standard errors agree
* within Monte Carlo error, not digit for digit.
set seed 10
bootstrap, reps(20) cluster(did) idcluster(newdid): melogit remission il6 crp i.cancerstage lengthofstay experience || newdid:
estat bootstrap, all

* Three-level model: doctors within hospitals (ll -3580.5459)
melogit remission age lengthofstay i.familyhx il6 crp i.cancerstage experience || hid: || did:
estat icc
