"""Every estimation command used by the manual's worked examples must parse.

Commands come from tests/reference_data/examples_*.json (key "command").  Each entry
may hold several commands (and postestimation parts after " ; "); only estimation
commands (mixed, me*, meqr*) that are not replays are parsed.  The column list is
built from the identifiers in the command itself (wildcards and ranges expanded).
"""

import glob
import json
import re
from pathlib import Path

import pytest

from memodels.syntax import is_replay, parse_command, split_command
from memodels.syntax.parse import ESTIMATION_COMMANDS

REF = Path(__file__).resolve().parents[1] / "reference_data"


def _commands() -> list[tuple[str, str]]:
    out = []
    for f in sorted(glob.glob(str(REF / "examples_*.json"))):
        for entry in json.loads(Path(f).read_text()):
            cmds = entry["command"]
            cmds = cmds if isinstance(cmds, list) else [cmds]
            for c in cmds:
                for part in c.split(" ; "):
                    word = re.sub(r"^(quietly|qui|svy:)\s+", "", part.strip()).split(" ")[0]
                    word = word.rstrip(",")
                    if word in ESTIMATION_COMMANDS and not is_replay(
                            split_command(part.strip())[1]):
                        out.append((entry["id"], part.strip()))
    return out


COMMANDS = _commands()


def _columns(rest: str) -> list[str]:
    cols: list[str] = []
    for tok in re.findall(r"[A-Za-z_][A-Za-z0-9_]*\*?(?:-[A-Za-z_][A-Za-z0-9_]*)?", rest):
        if tok.endswith("*"):
            cols += [tok[:-1] + str(i) for i in (1, 2, 3)]
        elif "-" in tok:
            a, b = tok.split("-")
            m, n = re.match(r"(\D+)(\d+)$", a), re.match(r"(\D+)(\d+)$", b)
            cols += [f"{m.group(1)}{i}" for i in range(int(m.group(2)), int(n.group(2)) + 1)]
        elif tok not in ("if", "in", "R", "i", "c", "ibn", "_all"):
            cols.append(tok)
    return list(dict.fromkeys(cols))


def test_examples_found():
    assert len(COMMANDS) >= 70


@pytest.mark.parametrize("ident, line", COMMANDS, ids=[f"{i}:{c[:40]}" for i, c in COMMANDS])
def test_example_parses(ident, line):
    cmd, rest = split_command(line)
    spec = parse_command(line, _columns(rest))
    assert spec.command == cmd
    if cmd != "mestreg":
        assert spec.depvar == rest.split()[0]
    assert len(spec.equations) == rest.count("||")
    for eq in spec.equations:
        assert eq.nested


def _spec(line):
    _, rest = split_command(line)
    return parse_command(line, _columns(rest))


def test_me_ex2_clippings():
    s = _spec(
        "mixed chlorophyll ibn.nitrogen##ibn.thatch ibn.block, noomitted noconstant"
        " || wpunit:, reml"
    )
    assert s.noconstant and s.options == {"noomitted": True, "reml": True}
    assert len(s.fixed) == 4
    assert all(f.base == "none" for t in s.fixed for f in t.factors)


def test_mixed_ex8_residuals():
    s = _spec("mixed follicles sin1 cos1 || mare:, residuals(ar 2, t(time)) reml nolog")
    assert s.options == {"residuals": "ar 2, t(time)", "reml": True, "nolog": True}
    assert s.extra_vars == ("time",)


def test_mixed_ex6c_repeated_levels():
    s = _spec(
        "mixed weight i.girl i.girl#c.age c.age#c.age || id: boy boyXage, noconstant"
        " || id: girl girlXage, noconstant nolog nofetable"
    )
    assert [e.variables for e in s.equations] == [("boy", "boyXage"), ("girl", "girlXage")]
    assert all(e.noconstant for e in s.equations)
    assert s.options == {"nolog": True, "nofetable": True}


def test_meglm_ex5_weights():
    s = _spec(
        "meglm pass_read female isei mn_isei high_school college test_lang one_for"
        " both_for [pw=pst1s1], family(bernoulli) link(logit) || id_school:,"
        " pweight(w_nrschbw)"
    )
    assert s.weight.kind == "pweight" and s.weight.expression == "pst1s1"
    assert s.equations[0].weight.expression == "w_nrschbw"
    assert s.options == {"family": "bernoulli", "link": "logit"}


def test_me_ex3_binomial():
    s = _spec("melogit nadmitted female || department:, binomial(napplied) or")
    assert s.options == {"binomial": "napplied", "or": True}
    assert s.extra_vars == ("napplied",)


def test_meqrlogit_ex5_crossed():
    s = _spec("meqrlogit attain_gt_6 sex || _all:R.pid || _all:R.sid, or")
    assert [(e.level, e.rfactor) for e in s.equations] == [("_all", "pid"), ("_all", "sid")]
    assert s.options == {"or": True}


def test_mixed_ex12b_weight_expression():
    s = _spec(
        "mixed isei female high_school college one_for both_for test_lang"
        " [pw=w_fstwtw/wnrschbw] || id_school:, pweight(wnrschbw) pwscale(gk)"
    )
    assert s.weight.expression == "w_fstwtw/wnrschbw"
    assert set(s.extra_vars) == {"w_fstwtw", "wnrschbw"}
