"""Encoder: the candidate table -> a float64 feature matrix, one row per candidate.

Fitted on the whole candidate table (never only on the measured rows). Column roles
(numeric, categorical, SMILES) are inferred and can be overridden; the user's table is
kept untouched beside the features. Built matrices can be kept in a cache (a campaign's
Store) under a key that hashes everything they are computed from, so that a campaign
reopened later reads them back instead of parsing and encoding its molecules again.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from designloop.errors import InputError
from designloop.features import molecules
from designloop.io import MAX_MAGNITUDE, out_of_range

if TYPE_CHECKING:
    from torch import Tensor

ROLES = ("numeric", "categorical", "smiles")
SMILES_ENCODINGS = ("onehot", "morgan", "descriptors", "mordred")
# Mordred descriptors are decorrelated among a column's distinct molecules at this absolute
# correlation (as EDBO and BayBE do for reaction components)
MORDRED_DECORRELATION = 0.7
# changes whenever the matrices `Encoder._build` makes for the same table and settings do:
# cached matrices under the old keys are then never read again
FEATURES_FORMAT = 2  # 2: Mordred molecules it cannot tell apart get 0/1 columns
NO_SMILES = "no_smiles"  # the cache's name for the features of a table without SMILES


def _first_rows(mask: np.ndarray, limit: int = 5) -> str:
    rows = (np.flatnonzero(mask) + 2).tolist()  # +2: header line and 1-based lines
    more = f" and {int(mask.sum()) - limit} more" if mask.sum() > limit else ""
    return ", ".join(map(str, rows[:limit])) + more


def infer_role(series: pd.Series) -> str:
    """'numeric' for numbers, 'smiles' for text that parses as molecules (only when RDKit is
    installed), else 'categorical': names such as THF or DMF are categories either way."""
    if pd.api.types.is_bool_dtype(series):
        return "categorical"
    if pd.api.types.is_numeric_dtype(series):
        return "numeric"
    values = series.dropna().astype(str).unique()
    if len(values) and molecules.rdkit_available() and molecules.looks_like_smiles(values):
        return "smiles"
    return "categorical"


def _decorrelate(block: np.ndarray, threshold: float = 0.95,
                 strict: bool = False) -> np.ndarray:
    """Drop constant columns and columns correlated above `threshold` (at or above it, with
    `strict`) with a kept earlier one, then standardise."""
    std = block.std(0)
    block = block[:, std > 1e-12 * (1 + np.abs(block).max(0))]
    if block.shape[1] == 0:
        return block
    z = (block - block.mean(0)) / block.std(0)
    corr = np.abs(np.corrcoef(z, rowvar=False)) if z.shape[1] > 1 else np.ones((1, 1))
    keep: list[int] = []
    for j in range(z.shape[1]):
        if all((corr[j, k] < threshold) if strict else (corr[j, k] <= threshold)
               for k in keep):
            keep.append(j)
    return z[:, keep]


def _per_molecule(values: list[str], threshold: float = MORDRED_DECORRELATION) -> np.ndarray:
    """Mordred descriptors of one SMILES column, `(N, d)`: computed for its distinct
    molecules ('none' as a row of zeros), descriptors that are not finite for all of them or
    constant dropped, then those correlated at `threshold` or more with an earlier kept one,
    standardised over the distinct molecules and mapped back to the rows. Molecules that 2-D
    descriptors cannot tell apart (enantiomers, E/Z isomers) get a 0/1 column each, so that
    distinct molecules never share a row."""
    distinct = sorted(set(values))
    if len(distinct) < 2:
        return np.zeros((len(values), 0))
    block = molecules.mordred(distinct)
    z = _decorrelate(block[:, np.isfinite(block).all(0)], threshold, strict=True)
    _, group, counts = np.unique(z, axis=0, return_inverse=True, return_counts=True)
    tied = np.flatnonzero(counts[group.ravel()] > 1)  # molecules sharing their row
    if len(tied):
        z = np.hstack([z, np.eye(len(distinct))[:, tied]])
    index = {v: i for i, v in enumerate(distinct)}
    return z[[index[v] for v in values]]


class Encoder:
    """Turns candidate columns into features.

    Args:
        roles: column -> "numeric" | "categorical" | "smiles", overriding the inference.
        morgan_radius, morgan_bits, morgan_counts: Morgan fingerprint settings.
        cache: where built matrices are kept beyond this object, such as a campaign's Store:
            an object with `load_features(key)` (the matrix, or None) and
            `save_features(key, encoding, matrix)`; the key is `feature_key(encoding)`.

    Numeric columns are scaled to [0, 1] over the candidate table, categorical columns
    one-hot encoded, and SMILES columns encoded as one-hot molecules, Morgan fingerprints or
    decorrelated, standardised RDKit 2-D descriptors (`features(smiles_encoding=...)`);
    several SMILES columns (a reaction's ligand, base, solvent) are concatenated. The
    "mordred" encoding describes each SMILES column's distinct molecules by Mordred's 2-D
    descriptors, decorrelated among those molecules (see `_per_molecule`).
    """

    def __init__(self, roles: dict[str, str] | None = None, morgan_radius: int = 2,
                 morgan_bits: int = 1024, morgan_counts: bool = False, cache=None):
        self.roles = dict(roles or {})
        self.morgan_radius = morgan_radius
        self.morgan_bits = morgan_bits
        self.morgan_counts = morgan_counts
        self.cache = cache

    def fit(self, table: pd.DataFrame, columns: list[str], source: str = "candidates",
            check_smiles: bool = True) -> Encoder:
        """Infer roles and check `columns` of `table` (`source` names the file in errors).

        Args:
            check_smiles: parse every SMILES now, so that an invalid one is reported at once.
                With False (a table checked when it was read in, such as a campaign's) they
                are checked when a matrix is first built instead, and a matrix read back from
                the cache needs no parsing at all.
        """
        if not columns:
            raise InputError(f"{source}: no feature columns left besides the target and ids")
        unknown = set(self.roles) - set(columns)
        if unknown:
            raise InputError(
                f"{source}: roles given for column(s) {sorted(unknown)} that are not feature "
                f"columns; the feature columns are {columns}"
            )
        roles: dict[str, str] = {}
        for col in columns:
            series = table[col]
            empty = series.isna().to_numpy().copy()
            if not pd.api.types.is_numeric_dtype(series):  # text: blank cells are empty too
                empty |= series.astype(str).str.strip().eq("").to_numpy()
            if empty.any():
                raise InputError(
                    f"{source}: column '{col}' is empty at line(s) {_first_rows(empty)}; fill "
                    "those cells (write none for an absent component) or drop the rows"
                )
            role = self.roles.get(col) or infer_role(series)
            if role not in ROLES:
                raise InputError(f"column '{col}': role must be one of {ROLES}, got {role!r}")
            if role == "numeric":
                values = pd.to_numeric(series, errors="coerce")
                bad = values.isna().to_numpy()
                if bad.any():
                    raise InputError(
                        f"{source}: column '{col}' is numeric but not a number at line(s) "
                        f"{_first_rows(bad)}; fix those cells or give it the role categorical"
                    )
                huge = out_of_range(values.to_numpy(dtype=float))
                if huge.any():
                    shown = [str(v) for v in series[huge].head(3)]
                    raise InputError(
                        f"{source}: column '{col}' holds {', '.join(shown)} at line(s) "
                        f"{_first_rows(huge)}: numbers must be finite and at most "
                        f"{MAX_MAGNITUDE:.0e} in size; fix those cells, or rescale the column "
                        "(other units, or its logarithm)"
                    )
            if role == "smiles" and check_smiles:
                molecules.check_smiles(series.astype(str).tolist(), col, source)
            roles[col] = role
        self.roles_ = roles
        self.table_ = table[columns].copy()
        self._source = source
        self._smiles_checked = check_smiles
        self._table_digest: str | None = None
        self._matrices: dict[str, Tensor] = {}
        return self

    @property
    def smiles_columns(self) -> list[str]:
        return [c for c, r in self.roles_.items() if r == "smiles"]

    @property
    def has_smiles(self) -> bool:
        return bool(self.smiles_columns)

    @property
    def only_smiles(self) -> bool:
        return all(r == "smiles" for r in self.roles_.values())

    def describe(self) -> pd.DataFrame:
        """One row per feature column: its role and what it becomes."""
        rows = []
        for col, role in self.roles_.items():
            n_unique = self.table_[col].nunique()
            detail = {
                "numeric": "scaled to [0, 1]",
                "categorical": f"one-hot, {n_unique} levels",
                "smiles": f"{n_unique} molecules: one-hot, Morgan, RDKit or Mordred "
                          "descriptors",
            }[role]
            rows.append({"column": col, "role": role, "encoding": detail})
        return pd.DataFrame(rows)

    def features(self, smiles_encoding: str | None = None) -> Tensor:
        """`(N, d)` float64 features of the whole candidate table.

        Args:
            smiles_encoding: "onehot", "morgan", "descriptors" (RDKit's) or "mordred" for
                SMILES columns; ignored (may be None) when there are none.
        """
        if self.has_smiles and smiles_encoding not in SMILES_ENCODINGS:
            raise InputError(
                f"smiles_encoding must be one of {SMILES_ENCODINGS}, got {smiles_encoding!r}"
            )
        key = smiles_encoding if self.has_smiles else NO_SMILES
        if key not in self._matrices:
            matrix = None
            if self.cache is not None:
                cache_key = self.feature_key(smiles_encoding)
                matrix = self.cache.load_features(cache_key)
                if matrix is not None and (matrix.ndim != 2 or matrix.shape[0] != len(self.table_)
                                           or matrix.shape[1] == 0):
                    matrix = None
            if matrix is None:
                matrix = self._build(smiles_encoding)
                if self.cache is not None:
                    self.cache.save_features(cache_key, key, matrix)
            import torch  # loaded when features are first asked for, not to read a table

            self._matrices[key] = torch.from_numpy(matrix)
        return self._matrices[key]

    def feature_key(self, smiles_encoding: str | None = None) -> str:
        """The cache key of `features(smiles_encoding)`: a SHA-256 hash of everything the
        matrix is computed from (the feature columns' names, types and every value, their
        roles, the Morgan settings, the encoding, `FEATURES_FORMAT`, and the versions of the
        libraries that compute it), so that an entry is never used for another table,
        other settings or another RDKit."""
        encoding = smiles_encoding if self.has_smiles else None
        if self._table_digest is None:
            table = self.table_
            content = json.dumps({"columns": [str(c) for c in table.columns],
                                  "dtypes": [str(t) for t in table.dtypes],
                                  "data": table.astype(object).to_numpy().tolist()},
                                 default=repr)
            self._table_digest = hashlib.sha256(content.encode()).hexdigest()
        uses_rdkit = encoding in ("morgan", "descriptors", "mordred")
        versions = [np.__version__, pd.__version__,
                    molecules.rdkit_version() if uses_rdkit else None]
        if encoding == "mordred":
            versions.append(molecules.mordred_version())
        key = {"format": FEATURES_FORMAT, "encoding": encoding, "table": self._table_digest,
               "roles": [[str(c), r] for c, r in self.roles_.items()],
               "fingerprint": [self.morgan_radius, self.morgan_bits, self.morgan_counts],
               "versions": versions}
        return hashlib.sha256(json.dumps(key, default=repr).encode()).hexdigest()

    def _build(self, smiles_encoding: str | None) -> np.ndarray:
        if self.has_smiles and not self._smiles_checked:
            for col in self.smiles_columns:
                molecules.check_smiles(self.table_[col].astype(str).tolist(), col, self._source)
            self._smiles_checked = True
        blocks = []
        for col, role in self.roles_.items():
            series = self.table_[col]
            if role == "numeric":
                v = pd.to_numeric(series).to_numpy(np.float64)
                span = v.max() - v.min()
                blocks.append(((v - v.min()) / span if span > 0 else np.zeros_like(v))[:, None])
            elif role == "categorical" or smiles_encoding == "onehot":
                blocks.append(pd.get_dummies(series.astype(str)).to_numpy(np.float64))
        if self.has_smiles and smiles_encoding == "morgan":
            bits = np.concatenate([
                molecules.morgan(self.table_[c].astype(str).tolist(), self.morgan_radius,
                                 self.morgan_bits, self.morgan_counts)
                for c in self.smiles_columns
            ], axis=1)
            blocks.append(bits[:, bits.any(0)])  # bits no candidate sets carry nothing
        if self.has_smiles and smiles_encoding == "descriptors":
            desc = [molecules.descriptors(self.table_[c].astype(str).tolist())[0]
                    for c in self.smiles_columns]
            blocks.append(_decorrelate(np.concatenate(desc, axis=1)))
        if self.has_smiles and smiles_encoding == "mordred":
            blocks += [_per_molecule(self.table_[c].astype(str).tolist())
                       for c in self.smiles_columns]
        out = np.concatenate(blocks, axis=1) if blocks else np.zeros((len(self.table_), 0))
        if out.shape[1] == 0:
            raise InputError("the candidate columns give no features (all constant?)")
        return out

    def most_molecules(self) -> int:
        """The largest number of distinct molecules in one SMILES column (0 without)."""
        return max((self.table_[c].nunique() for c in self.smiles_columns), default=0)

    def default_prior(self) -> str:
        """GP prior that suits the features: "gamma" (long lengthscales, smooth additive
        effects) when categories or molecules are among them, else BoTorch's
        "dim_scaled". Chosen by benchmarks/decisions.py (docs/benchmarks.md)."""
        return "gamma" if any(r != "numeric" for r in self.roles_.values()) else "dim_scaled"

    def default_kernel(self, smiles_encoding: str | None) -> str:
        """GP kernel that suits the features: Tanimoto when fingerprints are all there is."""
        if self.has_smiles and self.only_smiles and smiles_encoding == "morgan":
            return "minmax" if self.morgan_counts else "tanimoto"
        return "matern"
