"""Shared store of benchmark figures: ``bench/results.json``, ``name -> {value, unit,
baseline, ratio}``.

``ratio`` is ours / baseline, lower is better (for a budget, value / budget). Several benchmarks
write the same file, possibly at the same time, so :func:`record` merges under an exclusive
lock and replaces the file atomically: a figure recorded by one benchmark never erases
another's.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import statistics
import tempfile
from contextlib import contextmanager

RESULTS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.json")


@contextmanager
def _locked(path: str):
    # The lock file lives in the temporary directory, not beside results.json (untracked).
    key = hashlib.sha1(os.path.abspath(path).encode()).hexdigest()[:12]
    with open(os.path.join(tempfile.gettempdir(), f"bench-results-{key}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def load(path: str = RESULTS_PATH) -> dict:
    """All recorded figures ({} when there is no file yet, or it is unreadable)."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def record(name: str, value, unit: str, baseline=None, ratio=None, *,
           path: str = RESULTS_PATH) -> dict:
    """Merge one figure into the results file and return its entry (stored as given)."""
    entry = {"value": value, "unit": unit, "baseline": baseline, "ratio": ratio}
    with _locked(path):
        results = load(path)
        results[name] = entry
        directory = os.path.dirname(path) or "."
        fd, tmp = tempfile.mkstemp(prefix=".results-", suffix=".json", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(results, fh, indent=2, sort_keys=True, ensure_ascii=False)
                fh.write("\n")
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    return entry


def paired_medians(pairs, scale=1):
    """``(ours, baseline, ratio)`` from rounds of ``(ours, baseline)`` timings: the medians of
    each side times ``scale`` and the median of the rounds' own ratios (a round the machine
    slowed slows both sides of its ratio, not one median)."""
    return (statistics.median(m for m, _ in pairs) * scale, statistics.median(b for _, b in pairs) * scale,
            statistics.median(m / b for m, b in pairs))


def load_note() -> str:
    """What to print beside a figure: a target is for a machine at rest."""
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: the target is for a machine at rest"


def record_with_budget(name: str, value, unit: str, baseline, ratio, target) -> None:
    """``name`` against its baseline and ``name_budget`` against the issue's target."""
    record(name, value, unit, baseline, ratio)
    record(f"{name}_budget", value, unit, target, round(value / target, 3))
