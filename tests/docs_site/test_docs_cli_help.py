"""memodels --help in plain text; memodels help COMMAND prints the command's syntax."""

import re

import pytest

from memodels.cli.help_text import TITLES, command_help
from memodels.cli.main import main
from memodels.syntax.options import command_tables


def test_help_is_plain_text(capsys):
    with pytest.raises(SystemExit) as ex:
        main(["--help"])
    assert ex.value.code == 0
    out = capsys.readouterr().out
    assert "``" not in out and not re.search(r":(mod|func|class):`", out)
    assert "memodels help [COMMAND]" in out and "memodels run" in out


def test_help_mixed_prints_syntax_and_options(capsys):
    assert main(["help", "mixed"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("mixed -- Multilevel mixed-effects linear regression")
    assert "mixed depvar fe_equation [|| re_equation]" in out
    assert "levelvar: R.varname [, re_options]" in out
    # every option the parser accepts for mixed is listed
    fe, re_, glob = command_tables("mixed")
    for d in (*fe, *re_, *glob):
        assert f"  {d.name}" in out, d.name


def test_help_lists_commands_and_refuses_unknown(capsys):
    assert main(["help"]) == 0
    out = capsys.readouterr().out
    assert all(c in out for c in TITLES)
    assert main(["help", "regress"]) == 2
    assert "help for regress not found" in capsys.readouterr().err


def test_command_specific_options():
    assert "  or" in command_help("melogit") and "  family(" not in command_help("melogit")
    assert "  family(" in command_help("meglm") and "  irr" in command_help("mepoisson")
    assert "stset" in command_help("mestreg") and "[weight]" not in command_help("meqrlogit")


def test_help_in_a_do_file():
    from memodels.cli.common import SessionError
    from memodels.session import Session

    s = Session()
    assert s.run("help melogit") == command_help("melogit").rstrip()
    assert "mixed" in s.run("help")
    with pytest.raises(SessionError, match="regress"):
        s.run("help regress")
