"""Robustness of the do-file session and the ``memodels`` command (reliability audit,
findings 5, 6 and 8; section 5 of its case tables): every command error is a Stata-style
error with the script line and r() code that ``capture`` catches; sessions in threads keep
their own logs and never touch ``sys.stdout``; unreadable data files are clear errors;
bootstrap workers end with their parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import memodels
from memodels import session as session_module
from memodels.cli.common import InternalError
from memodels.cli.main import main
from memodels.session import ScriptError, Session, SessionError

SRC = Path(memodels.__file__).resolve().parents[1]


def _data(n_groups: int = 20, per: int = 10, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), per)
    x = rng.normal(size=g.size)
    y = 1 + 0.5 * x + rng.normal(size=n_groups)[g] + rng.normal(size=g.size)
    return pd.DataFrame({"y": y, "x": x, "g": g, "b": (y > 1).astype(int)})


def _raiser(exc: BaseException):
    def handler(session, rest):
        raise exc
    return handler


@pytest.fixture
def crashing(monkeypatch):
    """Commands whose handlers raise what a bug or the machine's limits raise."""
    table = dict(session_module.COMMANDS)
    for name, exc in {
        "crashidx": IndexError("list index out of range"),
        "crashtype": TypeError("float() argument must be a string"),
        "crashrec": RecursionError("maximum recursion depth exceeded"),
        "crashmem": MemoryError(),
        "crashlin": np.linalg.LinAlgError("Singular matrix"),
        "crashsyn": SyntaxError("invalid syntax"),
    }.items():
        table[name] = (len(name), _raiser(exc))
    monkeypatch.setattr(session_module, "COMMANDS", table)
    return table


CASES = [("crashidx", 498, "IndexError"), ("crashtype", 498, "TypeError"),
         ("crashrec", 130, "expression too long"), ("crashmem", 909, "memory"),
         ("crashlin", 498, "LinAlgError"), ("crashsyn", 198, "invalid syntax")]


@pytest.mark.parametrize(("command", "rc", "words"), CASES)
def test_capture_catches_every_exception(crashing, command, rc, words):
    s = Session(_data())
    log = s.run_script(f"capture {command}\ndisplay _rc\ncapture noisily {command}\n"
                       "display 7*6")
    assert s.rc == rc
    assert f"\n{rc}\n" in log  # display _rc
    assert words in log and f"r({rc});" in log  # capture noisily shows the error
    assert "42" in log  # the script went on


@pytest.mark.parametrize(("command", "rc", "words"), CASES)
def test_internal_error_names_line_and_code(crashing, command, rc, words):
    s = Session(_data())
    with pytest.raises(ScriptError) as info:
        s.run_script(f"display 1\n\n{command}\ndisplay 2")
    err = info.value
    assert (err.lineno, err.rc, err.command) == (3, rc, command)
    assert words in str(err)
    assert err.log.rstrip().endswith(f"r({rc});")
    assert "Traceback" not in err.log
    assert err.__cause__ is not None  # the original exception is kept for debugging
    # Session.run raises a SessionError (a MemodelsError), never the raw exception
    with pytest.raises(SessionError) as one:
        s.run(command)
    assert one.value.rc == rc


def test_internal_error_message_says_where(crashing):
    with pytest.raises(InternalError, match=r"internal error \(IndexError: list index out "
                                            r"of range at session\.py:\d+\); please report"):
        Session(_data()).run("crashidx")


def test_cli_internal_error_exit_and_one_line(crashing, tmp_path, capsys):
    data = tmp_path / "d.csv"
    _data().to_csv(data, index=False)
    script = tmp_path / "s.do"
    script.write_text("summarize x\ncrashtype\ndisplay 3\n")
    assert main(["run", str(data), str(script)]) == 2
    captured = capsys.readouterr()
    err_lines = captured.err.strip().splitlines()
    assert len(err_lines) == 1
    assert err_lines[0].startswith(f"memodels: {script}, line 2 (crashtype): ")
    assert err_lines[0].endswith("r(498);")
    assert "Traceback" not in captured.err + captured.out
    assert "r(498);" in captured.out  # the log shows Stata's return code too


def test_real_crash_in_a_subprocess_has_no_traceback(tmp_path):
    """The whole CLI as a user runs it: a command that crashed inside the library
    (a GLMM command without random effects raised IndexError in the audit) ends with
    one error line naming the script line, and exit status 2 -- or, once the command
    is implemented, runs."""
    data = tmp_path / "d.csv"
    _data().to_csv(data, index=False)
    script = tmp_path / "s.do"
    script.write_text("display 1\nmelogit b x, nolog\ncapture melogit b x, nolog\n")
    proc = subprocess.run([sys.executable, "-m", "memodels", "run", str(data), str(script)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(SRC)})
    assert "Traceback" not in proc.stderr
    assert proc.returncode in (0, 2)
    if proc.returncode == 2:
        assert f"{script}, line 2 (melogit b x, nolog)" in proc.stderr


def test_utf8_bom_do_file(tmp_path, capsys):
    data = tmp_path / "d.csv"
    _data().to_csv(data, index=False)
    script = tmp_path / "s.do"
    script.write_bytes("\ufeffsummarize x\r\ndisplay 6*7\r\n".encode())
    assert main(["run", str(data), str(script)]) == 0
    out = capsys.readouterr().out
    assert ". summarize x" in out and "42" in out
    assert Session(_data()).run_script("\ufeffdisplay 2+2").strip().endswith("4")


def test_session_module_is_an_attribute_after_plain_import():
    code = "import memodels; print(memodels.session.Session.__name__)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(SRC)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "Session"


# ------------------------------------------------------------------- threads
SCRIPTS = [
    "mixed y x || g:\ndisplay 1",
    "mixed y || g:, reml\nsummarize x",
    "mixed y x || g: x\nestat icc",
]


def _work(data: pd.DataFrame, i: int, logs: list, errors: list) -> None:
    try:
        logs[i] = Session(data).run_script(SCRIPTS[i])
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)


def test_sessions_in_threads_give_the_serial_logs(capsys):
    data = _data()
    serial = [Session(data).run_script(s) for s in SCRIPTS]
    assert all("Iteration 0:" in log for log in serial)  # the iteration logs are in them
    stdout = sys.stdout
    for _ in range(2):
        logs: list[str | None] = [None] * len(SCRIPTS)
        errors: list[BaseException] = []

        threads = [threading.Thread(target=_work, args=(data, i, logs, errors))
                   for i in range(len(SCRIPTS))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert logs == serial
    assert sys.stdout is stdout  # never replaced
    print("after the threads")  # and still works
    assert capsys.readouterr().out == "after the threads\n"


def test_library_fit_output_unaffected_by_session_in_other_thread(capsys):
    """A fit's iteration log printed outside any session goes to sys.stdout while a
    session in another thread is capturing its own."""
    data = _data()
    t = threading.Thread(target=lambda: Session(data).run_script(SCRIPTS[0]))
    t.start()
    memodels.fit("mixed y x || g:", data, log=True)  # quiet by default from Python
    # the session's "show the log" default is private to its thread (issue #17)
    memodels.fit("mixed y x || g:", data)
    t.join()
    out = capsys.readouterr().out
    assert out.count("Iteration 0:") == 1
    assert ". mixed" not in out  # the session's log did not leak here


# ---------------------------------------------------------------- data files
def _bad_files(tmp: Path) -> dict[str, Path]:
    files = {
        "empty.csv": b"",
        "ragged.csv": b"y,x\n1,2\n3,4,5\n6,7\n",
        "latin1.csv": "y,name\n1,caf\xe9\n".encode("latin-1"),
        "junk.dta": bytes(range(256)) * 8,
        "text.dta": b"this is not a Stata file",
        "truncated.dta": b"<stata_dta><header><release>118</release>",
    }
    out = {}
    for name, content in files.items():
        (tmp / name).write_bytes(content)
        out[name] = tmp / name
    return out


@pytest.mark.parametrize("name", ["empty.csv", "ragged.csv", "latin1.csv", "junk.dta",
                                  "text.dta", "truncated.dta"])
def test_unreadable_data_file_is_a_clear_error(tmp_path, capsys, name):
    path = _bad_files(tmp_path)[name]
    assert main(["fit", str(path), "summarize"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("memodels: ") and str(path) in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    # the same through a do-file's use: an error on the line, catchable by capture
    s = Session()
    with pytest.raises(ScriptError) as info:
        s.run_script(f'display 1\nuse "{path}"')
    assert info.value.lineno == 2 and str(path) in str(info.value)
    assert "internal error" not in str(info.value)


def test_utf16_csv_is_read(tmp_path):
    """A CSV saved as UTF-16 (with its byte-order mark, as Excel writes 'Unicode
    text') reads as the same data as its UTF-8 copy."""
    df = pd.DataFrame({"y": [1.5, 2.5, 3.0], "g": [1, 2, 2], "s": ["a", "é", "c"]})
    (tmp_path / "u16.csv").write_bytes(df.to_csv(index=False).encode("utf-16"))
    got = memodels.read_data(tmp_path / "u16.csv")
    pd.testing.assert_frame_equal(got, df)


# ----------------------------------------------------------------- bootstrap
def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_bootstrap_workers_die_with_killed_parent(tmp_path):
    data = tmp_path / "d.csv"
    _data().to_csv(data, index=False)
    script = tmp_path / "boot.do"
    script.write_text(textwrap.dedent("""\
        bootstrap, reps(100000) cluster(g) nodots: mixed y x || g:
        """))
    proc = subprocess.Popen([sys.executable, "-m", "memodels", "run", str(data),
                             str(script)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(SRC)})
    try:
        deadline = time.monotonic() + 90
        workers: list[int] = []
        while time.monotonic() < deadline and len(workers) < 2:
            time.sleep(0.5)
            workers = _children(proc.pid)
            assert proc.poll() is None, "the bootstrap ended before it could be killed"
        assert len(workers) >= 2, "no bootstrap workers started"
        time.sleep(1.0)  # the workers are computing replications
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.2)
    survivors = [w for w in workers if _alive(w)]
    for w in survivors:  # do not leave them running if the test fails
        os.kill(w, signal.SIGKILL)
    assert not survivors
