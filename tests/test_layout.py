"""The import direction of design.md: kernels and ledger at the bottom; report never imports engine or hw."""
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "archsim"
FORBIDDEN = {"kernels": {"config", "workload", "hw", "engine", "energy", "report", "cli", "ledger"},
             "hw": {"engine", "report", "cli"}, "report": {"engine", "hw", "cli"}, "energy": {"engine", "hw", "cli"},
             "config": {"engine", "hw", "report", "cli"}, "ledger": {"engine", "hw", "report", "cli"},
             "mapping": {"config", "workload", "engine", "hw", "report", "cli", "kernels"},
             "ops": {"engine", "hw", "report", "cli"}}


def archsim_imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and (node.module or "").startswith("archsim."):
                yield node.module.split(".")[1]
            elif node.level >= 1:
                rel = path.relative_to(PKG).parts
                base = rel[:len(rel) - node.level]
                parts = list(base) + ((node.module or "").split(".") if node.module else [])
                if parts:
                    yield parts[0].removesuffix(".py")
                else:
                    yield from (a.name for a in node.names)


def test_import_direction():
    bad = []
    for path in PKG.rglob("*.py"):
        top = path.relative_to(PKG).parts[0].removesuffix(".py")
        for target in archsim_imports(path):
            if target in FORBIDDEN.get(top, ()):
                bad.append(f"{path.relative_to(PKG)} imports {target}")
    assert not bad, bad
