"""The conventions benchmark runs (quick mode: 50 applications, nothing recorded): the job's
documents are docxtpl's, sample by sample, and their numbers follow the applications."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_conventions_benchmark_runs_in_quick_mode():
    proc = subprocess.run([sys.executable, "-m", "bench.bench_grants", "--quick", "--database", "sqlite"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "50 conventions — job" in proc.stdout and "same content on 10/10 sampled" in proc.stdout
    assert "NUMBERS DIFFER" not in proc.stdout and proc.stdout.rstrip().endswith("PASS")
