"""Molecules from SMILES (RDKit): validation, Morgan fingerprints and 2-D descriptors
(RDKit's own, and Mordred's larger set).

Every featuriser works per unique molecule and caches the result, since reaction tables
repeat the same few ligands, bases and solvents thousands of times.
"""

from __future__ import annotations

import functools

import numpy as np

from designloop.errors import InputError

NONE_TOKENS = frozenset({"none", "-"})


def _rdkit():
    try:
        from rdkit import Chem, RDLogger
    except ImportError:  # pragma: no cover - rdkit is in the chem extra
        raise InputError(
            "SMILES columns need RDKit: pip install 'designloop[chem]'"
        ) from None
    RDLogger.DisableLog("rdApp.*")
    return Chem


def rdkit_available() -> bool:
    """Whether RDKit can be imported. Without it no text column is read as SMILES: text is
    categorical, and only a column given the role "smiles" explicitly asks for RDKit."""
    try:
        from rdkit import Chem  # noqa: F401
    except ImportError:
        return False
    return True


@functools.cache
def rdkit_version() -> str | None:
    """The installed RDKit's version, or None without RDKit."""
    try:
        import rdkit
    except ImportError:
        return None
    return str(rdkit.__version__)


def is_none(value) -> bool:
    """True for the placeholder that means 'no molecule here' (e.g. no additive)."""
    return isinstance(value, str) and value.strip().lower() in NONE_TOKENS


def parse(smiles: str):
    """RDKit molecule for a SMILES string, or None when it does not parse."""
    if not isinstance(smiles, str) or not smiles.strip():
        return None
    return _rdkit().MolFromSmiles(smiles.strip())


def looks_like_smiles(values) -> bool:
    """Whether a text column holds SMILES: at least 80% of its values (besides the 'none'
    placeholder) parse, and some have the shape of a molecule rather than a word. A few
    invalid entries then surface as errors naming their rows, not as a silent change of role.
    """
    seen_molecule = False
    valid = invalid = 0
    for v in values:
        if is_none(v):
            continue
        if not isinstance(v, str) or parse(v) is None:
            invalid += 1
            continue
        valid += 1
        if any(ch in v for ch in "=#()[]123456789@/\\") or any(ch in v for ch in "cnos") \
                or len(v) > 3:
            seen_molecule = True
    return seen_molecule and valid >= 4 * invalid


def check_smiles(values, column: str, source: str) -> None:
    """Raise InputError naming the first row whose SMILES RDKit cannot parse. Each distinct
    value is parsed once: a reaction table repeats a few molecules thousands of times."""
    parsed: dict[str, bool] = {}
    for row, v in enumerate(values):
        if is_none(v):
            continue
        if v not in parsed:
            parsed[v] = parse(v) is not None
        if not parsed[v]:
            raise InputError(
                f"{source}: column '{column}', row {row + 2} (line in the file): {v!r} is not a "
                "valid SMILES; correct it, or write none for an absent component"
            )


def morgan(values, radius: int = 2, n_bits: int = 1024, counts: bool = False) -> np.ndarray:
    """Morgan (ECFP-like) fingerprints `(N, n_bits)`; 'none' gives all zeros.

    Reference: Rogers & Hahn, "Extended-connectivity fingerprints", JCIM 2010.
    """
    from rdkit.Chem import rdFingerprintGenerator

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    cache: dict[str, np.ndarray] = {}
    out = np.zeros((len(values), n_bits), dtype=np.float64)
    for i, v in enumerate(values):
        if is_none(v):
            continue
        if v not in cache:
            mol = parse(v)
            fp = gen.GetCountFingerprintAsNumPy(mol) if counts else gen.GetFingerprintAsNumPy(mol)
            cache[v] = fp.astype(np.float64)
        out[i] = cache[v]
    return out


def descriptors(values) -> tuple[np.ndarray, list[str]]:
    """RDKit 2-D descriptors `(N, D)` with their names; 'none' gives zeros.

    Non-finite values (descriptors RDKit cannot compute for a molecule) become 0.
    """
    from rdkit.Chem import Descriptors

    cache: dict[str, dict] = {}
    names: list[str] | None = None
    rows = []
    for v in values:
        if is_none(v):
            rows.append(None)
            continue
        if v not in cache:
            cache[v] = Descriptors.CalcMolDescriptors(parse(v))
        if names is None:
            names = list(cache[v])
        rows.append(cache[v])
    names = names or []
    out = np.zeros((len(values), len(names)), dtype=np.float64)
    for i, desc in enumerate(rows):
        if desc is not None:
            out[i] = [desc[name] for name in names]
    out[~np.isfinite(out)] = 0.0
    return out, names


def mordred_available() -> bool:
    """Whether Mordred (the `mordredcommunity` package, in the chem extra) is installed; found
    without importing it (and the part of RDKit it loads), which a campaign whose descriptors
    are cached never needs."""
    import importlib.util

    return importlib.util.find_spec("mordred") is not None


@functools.cache
def mordred_version() -> str | None:
    """The installed Mordred's version, or None without it."""
    import importlib.metadata

    try:
        return importlib.metadata.version("mordredcommunity")
    except importlib.metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1)
def _mordred_calculator():
    try:
        from mordred import Calculator
        from mordred import descriptors as all_descriptors
    except ImportError:  # pragma: no cover - mordredcommunity is in the chem extra
        raise InputError(
            "Mordred descriptors need the mordredcommunity package: pip install "
            "'designloop[chem]'"
        ) from None
    return Calculator(all_descriptors, ignore_3D=True)


@functools.lru_cache(maxsize=8192)
def _mordred_row(smiles: str) -> np.ndarray:
    """One molecule's Mordred descriptors, kept for the process (a read-only array): every
    campaign on the same reaction components asks for the same few molecules."""
    row = np.array(list(_mordred_calculator()(parse(smiles)).fill_missing(np.nan).values()),
                   dtype=np.float64)
    row.flags.writeable = False
    return row


def mordred(values) -> np.ndarray:
    """Mordred's 2-D descriptors `(N, D)` (about 1,600: constitution, topology, charges,
    counts of groups and rings), computed once per distinct molecule; 'none' gives zeros.
    A descriptor Mordred cannot compute for a molecule is NaN.

    Reference: Moriwaki et al., "Mordred: a molecular descriptor calculator", J. Cheminform.
    10, 4 (2018).
    """
    out = np.zeros((len(values), len(_mordred_calculator().descriptors)), dtype=np.float64)
    for i, v in enumerate(values):
        if not is_none(v):
            out[i] = _mordred_row(v)
    return out
