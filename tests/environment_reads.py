"""Which environment variables SocialDesk reads, found in the code itself rather than listed by hand.

The README table and docker-compose.yml are checked against this, so neither can drift from the
settings when someone adds a variable.
"""

import ast
import operator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENV_HELPERS = {"env_str", "env_bool", "env_int", "env_list"}
# Not application code: the virtualenv, runtime data, the tests themselves, build output.
OUTSIDE_APPLICATION = {".venv", "var", "tests", "build", "node_modules", ".git"}
NOT_LITERAL = object()  # a default computed from other settings (e.g. `not DEBUG`)
_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}


@dataclass(frozen=True)
class EnvironmentRead:
    name: str
    default: object  # a Python value, NOT_LITERAL, or None when the code gives no default
    where: str


def _application_files() -> list[Path]:
    return sorted(
        path
        for path in REPO.rglob("*.py")
        if not OUTSIDE_APPLICATION.intersection(path.relative_to(REPO).parts)
        and "migrations" not in path.parts
    )


def _default(node: ast.Call, position: int) -> object:
    candidates = [keyword.value for keyword in node.keywords if keyword.arg == "default"]
    if len(node.args) > position:
        candidates.append(node.args[position])
    if not candidates:
        return None
    return _constant(candidates[0])


def _constant(node: ast.expr) -> object:
    """A literal, or arithmetic on literals (``10 * 1024 * 1024``); NOT_LITERAL for anything else."""
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        left, right = _constant(node.left), _constant(node.right)
        if isinstance(left, int) and isinstance(right, int):
            return _ARITHMETIC[type(node.op)](left, right)
        return NOT_LITERAL
    try:
        return ast.literal_eval(node)
    except ValueError:
        return NOT_LITERAL


def _is_os_environ(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _name_of(node: ast.Call) -> str | None:
    first = node.args[0] if node.args else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


@cache
def environment_reads() -> tuple[EnvironmentRead, ...]:
    """Every env_* helper call, os.environ.get / os.getenv / os.environ[...] read with a literal name.

    An env_* call whose name is not a literal cannot be documented; it is reported with the name
    "<not a literal>" so the tests fail and say where.
    """
    reads = []
    for path in _application_files():
        relative = path.relative_to(REPO)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(relative))):
            where = f"{relative}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                function = node.func
                if isinstance(function, ast.Name) and function.id in ENV_HELPERS:
                    reads.append(
                        EnvironmentRead(_name_of(node) or "<not a literal>", _default(node, 1), where)
                    )
                elif isinstance(function, ast.Attribute) and (
                    (function.attr == "get" and _is_os_environ(function.value))
                    or (
                        function.attr == "getenv"
                        and isinstance(function.value, ast.Name)
                        and function.value.id == "os"
                    )
                ):
                    name = _name_of(node)
                    if name:  # socialdesk/env.py reads computed names on behalf of the helpers above
                        reads.append(EnvironmentRead(name, _default(node, 1), where))
            elif (
                isinstance(node, ast.Subscript)
                and isinstance(node.ctx, ast.Load)
                and _is_os_environ(node.value)
                and isinstance(node.slice, ast.Constant)
            ):
                reads.append(EnvironmentRead(node.slice.value, None, where))
    return tuple(reads)


def variables_read() -> set[str]:
    return {read.name for read in environment_reads()}
