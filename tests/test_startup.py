"""Start-up stays light: `archsim --help`, argument errors and input errors load neither Numba nor pandas (nor
pydantic where no config is read); the lazily built subcommands keep their modules' help."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

import archsim
from archsim import cli

HEAVY = ("numba", "pandas", "pydantic", "simpy", "matplotlib", "pyarrow")

PROBE = """
import json, sys
from archsim.cli import main
try:
    code = main({argv!r})
except SystemExit as e:
    code = e.code
print(json.dumps({{"code": code, "loaded": sorted({{m.split('.')[0] for m in sys.modules}})}}))
"""


def probe(*argv):
    r = subprocess.run([sys.executable, "-c", PROBE.format(argv=list(argv))], capture_output=True, text=True,
                       timeout=120)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    return out["code"], set(out["loaded"]) & set(HEAVY), r.stderr


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["run", "--mode", "fast"], ["nope"]])
def test_help_and_argument_errors_load_nothing_heavy(argv):
    code, heavy, _ = probe(*argv)
    assert code in (0, 2) and heavy == set()


def test_a_missing_workload_fails_before_numba_and_pandas(tmp_path):
    code, heavy, err = probe("run", "--workload", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "o"))
    assert code == 2 and "missing.yaml" in err
    assert heavy <= {"pydantic"}


@pytest.mark.parametrize("name", list(cli.LAZY_COMMANDS))
def test_lazy_subcommands_keep_their_modules_help(name):
    def help_of(p):
        sub = next(a for a in p._actions if a.__class__.__name__ == "_SubParsersAction")
        return next(c.help for c in sub._choices_actions if c.dest == name)
    assert help_of(cli.parser(name)) == cli.LAZY_COMMANDS[name] == help_of(cli.parser())


def test_package_names_resolve_on_first_use():
    assert set(archsim.__all__) <= set(dir(archsim))
    assert archsim.simulate.__name__ == "simulate" and archsim.ConfigError.__name__ == "ConfigError"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        archsim.nothing


LOADED = """
import json, sys
from archsim.cli import main
main({argv!r})
print(json.dumps(sorted(sys.modules)))
"""


def test_a_functional_run_loads_no_scipy_linalg(tmp_path):
    """Numba's first kernel call would import scipy.linalg to probe for a BLAS; archsim's kernels need none."""
    argv = ["run", "--workload", "workloads/tiny.yaml", "--mode", "functional", "--out", str(tmp_path / "o")]
    r = subprocess.run([sys.executable, "-c", LOADED.format(argv=argv)], capture_output=True, text=True, timeout=300,
                       cwd=Path(archsim.__file__).parents[1])
    loaded = json.loads(r.stdout.strip().splitlines()[-1])
    assert "archsim.kernels.dense" in loaded and (tmp_path / "o" / "counts.csv").exists()
    assert not [m for m in loaded if m.startswith("scipy.linalg")]


def test_simulating_needs_no_pandas():
    code = ("import sys; import archsim.engine.simulate, archsim.ledger; "
            "print('pandas' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "False", r.stderr
