"""`./scripts/bench [NAME ...]`: run benchmarks, write bench-results/<name>.json, print a table each."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from pathlib import Path
from types import ModuleType

from tests.benchmarks.common import BenchContext, write_result

REPO = Path(__file__).resolve().parents[2]


def discover() -> dict[str, ModuleType]:
    """Every `bench_<name>.py` in this package, by its NAME."""
    package = Path(__file__).parent
    found: dict[str, ModuleType] = {}
    for info in sorted(pkgutil.iter_modules([str(package)]), key=lambda i: i.name):
        if info.name.startswith("bench_"):
            module = importlib.import_module(f"tests.benchmarks.{info.name}")
            found[module.NAME] = module
    return found


def main(argv: list[str] | None = None) -> int:
    benches = discover()
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Measure deid's speed and memory. Results: bench-results/<name>.json plus a table. "
        "Figures are compared as ratios within one run; the machine is shared and noisy.",
        epilog="benchmarks: " + "; ".join(f"{n}: {m.DESCRIPTION}" for n, m in benches.items()),
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="tiny counts: check that it runs, not how fast")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the event counts (default 1.0)")
    parser.add_argument("--minutes", type=float, help="how long the soak runs (default 30; --quick: 1)")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results", help="result folder")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, module in benches.items():
            print(f"{name:12}  {module.DESCRIPTION}")
        return 0
    unknown = [n for n in args.names if n not in benches]
    if unknown:
        print(f"error: unknown benchmark {', '.join(unknown)}; known: {', '.join(benches)}", file=sys.stderr)
        return 2
    if args.scale <= 0:
        print("error: --scale must be positive", file=sys.stderr)
        return 2
    if args.minutes is not None and args.minutes <= 0:
        print("error: --minutes must be positive", file=sys.stderr)
        return 2
    ctx = BenchContext(out_dir=args.out, quick=args.quick, scale=args.scale, minutes=args.minutes)
    for name in args.names or list(benches):
        print(f"\n== bench {name}: {benches[name].DESCRIPTION}", flush=True)
        started = time.perf_counter()
        ctx.notes = []
        result = benches[name].run(ctx)
        result["wall_seconds"] = round(time.perf_counter() - started, 2)
        path = write_result(ctx, name, result)
        print(f"-> {path.relative_to(REPO) if path.is_relative_to(REPO) else path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
