"""Run the benchmarks: ``python -m bench`` runs all, ``python -m bench curation`` those whose name
contains "curation". Exits non-zero when a selected benchmark could not run."""

import importlib
import os
import pkgutil
import sys
import time
import traceback
from pathlib import Path

from bench import BenchUnavailable


def _module_names(selectors: list[str]) -> list[str]:
    names = sorted(
        info.name
        for info in pkgutil.iter_modules([str(Path(__file__).parent)])
        if info.name.startswith("bench_")
    )
    if selectors:
        names = [name for name in names if any(selector in name for selector in selectors)]
    return names


def _print_rows(title: str, rows: list[tuple], seconds: float, load: tuple[float, float]) -> None:
    # Wall-clock figures mean little on a busy machine: say how busy it was.
    print(
        f"\n== {title} ({seconds:.1f} s; load average {load[0]:.1f} → {load[1]:.1f} on {os.cpu_count()} CPUs) =="
    )
    header = ("figure", "value", "target", "result")
    table = [header] + [tuple(str(cell) for cell in row) + ("",) * (4 - len(row)) for row in rows]
    widths = [max(len(row[column]) for row in table) for column in range(4)]
    for position, row in enumerate(table):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if position == 0:
            print("  ".join("-" * width for width in widths))


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialdesk.settings")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()
    names = _module_names(argv)
    if not names:
        print(f"No benchmark matches {' '.join(argv)!r}.", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        started, load_before = time.monotonic(), os.getloadavg()[0]
        try:
            rows = importlib.import_module(f"bench.{name}").run()
        except BenchUnavailable as exc:
            print(f"\n== {name}: cannot run: {exc}", file=sys.stderr)
            failed.append(name)
            continue
        except Exception:
            print(f"\n== {name}: failed", file=sys.stderr)
            traceback.print_exc()
            failed.append(name)
            continue
        _print_rows(name, rows, time.monotonic() - started, (load_before, os.getloadavg()[0]))
    if failed:
        print(f"\nDid not run: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
