"""``python -m bench`` (``make bench``): run every ``bench/bench_*.py`` module's ``main()`` in turn.

Each benchmark records its figures in ``bench/results.json`` (see ``bench/results.py``). A
benchmark that fails is reported and the others still run; the exit status says if any failed.
``python -m bench documents tasks`` runs only ``bench_documents`` and ``bench_tasks``.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def modules(selected: list[str]) -> list[str]:
    names = sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_"))
    if selected:
        wanted = {s if s.startswith("bench_") else f"bench_{s}" for s in selected}
        unknown = wanted - set(names)
        if unknown:
            raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}; available: {', '.join(names)}")
        names = [n for n in names if n in wanted]
    return names


def run(name: str) -> bool:
    module = importlib.import_module(f"bench.{name}")
    main = getattr(module, "main", None)
    if main is None:
        print(f"--- {name}: no main(), skipped")
        return True
    print(f"--- {name}", flush=True)
    started = time.perf_counter()
    try:
        # Some mains take argv, some take nothing: give an empty command line to those that do.
        result = main([]) if inspect.signature(main).parameters else main()
    except SystemExit as exc:
        result = exc.code
    except Exception:  # noqa: BLE001 - report and go on with the next benchmark
        traceback.print_exc()
        result = 1
    ok = result in (None, 0)
    print(f"--- {name}: {'ok' if ok else f'FAILED ({result})'} in {time.perf_counter() - started:.1f} s", flush=True)
    return ok


def main(argv: list[str]) -> int:
    names = modules(argv)
    failed = [name for name in names if not run(name)]
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    print(f"{len(names)} benchmark(s) done; figures in {HERE / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
