"""The separate environment in which the benchmarks run BayBE (never a dependency of
designloop): benchmarks/.venv-baybe, created on first use with torch 2.13.0 and
`baybe[chem]` (its SMILES encodings need RDKit and scikit-fingerprints)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

VENV = Path(__file__).resolve().parent / ".venv-baybe"


def baybe_python(given: str | None = None) -> str:
    """The Python of BayBE's environment: `given`, or benchmarks/.venv-baybe (made once)."""
    if given:
        return given
    python = VENV / "bin" / "python"
    if not python.exists():
        print("# creating a separate environment for BayBE (one time)...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "torch==2.13.0"], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "baybe[chem]"], check=True)
    return str(python)
