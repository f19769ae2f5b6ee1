"""What each shipped dataset is: where it comes from, how faithful the copy is, and the
Stata value labels and storage types that the CSV alone cannot carry.

Every dataset here is a public copy of a dataset used by an example of the Stata 14 [ME]
manual (``webuse NAME`` there) or by the UCLA worked melogit analysis of the hdp data.
``status`` is ``"exact"`` when the manual's printed data checks and model fits are
reproduced on this copy, ``"near"`` when it is the same study but a few records differ
from Stata's file (only loose checks against the manual are honest then).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DatasetInfo:
    """One shipped dataset.

    ``value_labels`` maps a variable to its Stata value label (code -> text), as Stata's
    ``.dta`` file (or the analysis's ``encode``) has it; ``float_columns`` are the variables
    Stata stores as ``float``, whose values are rounded to single precision on loading so
    that fits reproduce the manual's digits (productivity: log likelihood 1430.50167 on
    float data against 1430.50159 on doubles, printed 1430.5017).
    """

    name: str
    title: str
    examples: str
    size: str
    status: str
    source: str
    note: str = ""
    value_labels: dict[str, dict[int, str]] = field(default_factory=dict)
    float_columns: tuple[str, ...] = ()


_YESNO = {0: "no", 1: "yes"}

CATALOG: dict[str, DatasetInfo] = {d.name: d for d in (
    DatasetInfo("pig", "Longitudinal analysis of pig weights", "me, mixed, meglm",
                "432 obs / 48 pigs", "exact", "Diggle et al. pig weights (R package SemiPar)"),
    DatasetInfo("productivity", "Public capital productivity", "mixed (three levels)",
                "816 obs / 9 regions, 48 states", "exact",
                "Baltagi's US states productivity (R package plm, Produc), logs as Stata",
                float_columns=("public", "hwy", "water", "other", "private", "gsp", "emp",
                               "unemp")),
    DatasetInfo("ovary", "Ovarian follicles in mares", "mixed (AR residuals)",
                "308 obs / 11 mares", "exact",
                "R package nlme, Ovary; sin1, cos1 and time as Stata"),
    DatasetInfo("t43", "Winer et al. table 4.3", "mixed (denominator degrees of freedom)",
                "20 obs / 5 persons", "exact", "Winer, Brown and Michels, table 4.3"),
    DatasetInfo("veneer", "Dental veneer gingival crevicular fluid",
                "mixed (three levels, Kenward-Roger DDF, heteroskedastic residuals)",
                "110 obs / 12 patients, 55 teeth", "exact", "R package WWGbook, veneer"),
    DatasetInfo("exercise", "Exercise therapy trial (strength)",
                "mixed (unstructured and exponential residuals)", "259 obs / 37 subjects",
                "exact", "Applied Longitudinal Analysis exercise data, long form"),
    DatasetInfo("diuretics", "Diuretics and pre-eclampsia meta-analysis",
                "me intro (meta-analysis by meglm)", "9 trials", "exact",
                "as listed in the manual"),
    DatasetInfo("epilepsy", "Epileptic seizure counts", "mepoisson, meqrpoisson",
                "236 obs / 59 subjects", "exact",
                "Thall and Vail (R package HSAUR3, epilepsy), centred as Stata"),
    DatasetInfo("melanoma", "Skin cancer (melanoma) mortality", "mepoisson, menbreg, meqrpoisson",
                "354 obs / 9 nations, 78 regions", "exact", "R package mlmRev, Mmmec"),
    DatasetInfo("toenail", "Toenail infection", "meqrlogit postestimation",
                "1,908 obs / 294 patients", "exact", "R package HSAUR3, toenail"),
    DatasetInfo("tvsfpors", "Television, School and Family Smoking Prevention and Cessation "
                "Project", "meologit, meoprobit, meglm ordinal",
                "1,600 obs / 28 schools, 135 classes", "exact",
                "TVSFP smoking prevention (R package mixor, SmokingPrevention)"),
    DatasetInfo("salamander", "Salamander mating", "meglm (crossed)", "360 obs / 60 x 60",
                "exact", "McCullagh and Nelder salamander (R package hglm)"),
    DatasetInfo("hdp", "Hospital, doctor and patient lung-cancer remission (simulated)",
                "the UCLA worked melogit analysis", "8,525 obs / 407 doctors, 35 hospitals",
                "exact", "UCLA IDRE hdp.csv (also R package glmmplus, hdp)",
                note="after the analysis's encode loop: familyhx, smokinghx, sex, cancerstage "
                     "and school coded 1..k in alphabetical order, with value labels",
                value_labels={
                    "familyhx": {1: "no", 2: "yes"},
                    "smokinghx": {1: "current", 2: "former", 3: "never"},
                    "sex": {1: "female", 2: "male"},
                    "cancerstage": {1: "I", 2: "II", 3: "III", 4: "IV"},
                    "school": {1: "average", 2: "top"},
                }),
    DatasetInfo("catheter", "Kidney catheter infections", "mestreg", "76 obs / 38 patients",
                "exact", "McGilchrist and Aisbett (R package survival, kidney)",
                note="rebuilt: one age per patient (the mean of its two records' ages); patient "
                     "11's time 333 -> 33; total time 7424 as Stata's stset shows"),
    DatasetInfo("bangladesh", "Bangladesh Fertility Survey, 1989",
                "melogit, meprobit, meqrlogit, meglm", "1,934 obs / 60 districts", "near",
                "R package mlmRev, Contraception",
                note="a few records differ from Stata's file: fixed-effects logit ll -1228.365 "
                     "vs Stata's -1228.5263; the 7-point melogit ll differs by about 0.16",
                value_labels={"c_use": _YESNO, "urban": {0: "rural", 1: "urban"}}),
    DatasetInfo("fifeschool", "School data from Fife, Scotland", "meqrlogit (crossed)",
                "3,435 obs / 148 x 19", "exact (counts)", "R package mlmRev, ScotsSec",
                note="the manual text lacks this example's output"),
)}

#: Names under which the manual also loads a dataset.
ALIASES: dict[str, str] = {"tvsfpor": "tvsfpors", "tvsfpcors": "tvsfpors"}
