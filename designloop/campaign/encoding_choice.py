"""Choosing how molecules are represented, per campaign, from the data.

A table whose SMILES columns each hold a few distinct molecules (the components of a
reaction: ligands, bases, solvents, additives) describes every molecule by its Mordred
descriptors, decorrelated among that column's molecules, as EDBO and BayBE do for reaction
components; on the reaction tables of benchmarks/decisions.py this found more of the best
experiments than choosing among the other encodings (docs/benchmarks.md). A library of many
molecules chooses among one-hot, Morgan fingerprints and RDKit descriptors: once enough
observations exist, the encoding whose GP explains the measured values best out of sample
(leave-one-out predictive log likelihood) is used.
"""

from __future__ import annotations

import numpy as np
import torch

from designloop.campaign import reuse
from designloop.errors import SurrogateFitError
from designloop.features import molecules
from designloop.features.encoding import Encoder
from designloop.surrogates.gp import GPRegressor

MIN_OBSERVATIONS = 6
DEFAULT_ENCODING = "morgan"
# the encodings compared by leave-one-out likelihood for a library of many molecules
LIBRARY_ENCODINGS = ("onehot", "morgan", "descriptors")
# at most this many distinct molecules in every SMILES column: components of a reaction
COMPONENT_MAX_MOLECULES = 100
# the settings of `smiles_encoding` that choose per cycle: "auto" (Mordred for reaction
# components, else the likelihood choice) and "likelihood" (the likelihood choice always)
CHOSEN_ENCODINGS = ("auto", "likelihood")


def choose_encoding(encoder: Encoder, rows: torch.Tensor, y: torch.Tensor, task: str,
                    n_unique: int, seed: int = 0, fits: dict | None = None,
                    gp_params: dict | None = None, components: bool = True
                    ) -> tuple[str | None, dict]:
    """The SMILES encoding to use and why.

    Args:
        encoder: the fitted candidate encoder.
        rows: `(n,)` candidate indices of the observations (replicates repeat).
        y: `(n,)` observed values (regression) or labels.
        task: "regression" or "classification".
        n_unique: number of distinct candidates measured.
        seed: GP seed.
        fits: when given, receives each encoding's fitted GP (encoding -> GPRegressor), so
            that the campaign can reuse the chosen one instead of fitting it again.
        gp_params: further GPRegressor settings (e.g. the prior) of the campaign's GP.
        components: Mordred descriptors for a table of reaction components (at most
            `COMPONENT_MAX_MOLECULES` distinct molecules in each SMILES column, regression);
            False: the likelihood choice whatever the table (`smiles_encoding="likelihood"`).

    Returns:
        (encoding or None when there are no SMILES columns, a dict for the campaign log).
    """
    if not encoder.has_smiles:
        return None, {}
    if task != "regression":
        return DEFAULT_ENCODING, {"encoding_reason": "classification: Morgan fingerprints"}
    if components and encoder.most_molecules() <= COMPONENT_MAX_MOLECULES \
            and molecules.mordred_available():
        return "mordred", {
            "encoding_reason": f"at most {COMPONENT_MAX_MOLECULES} distinct molecules in each "
                               "SMILES column (reaction components): Mordred descriptors of "
                               "each molecule, decorrelated among the column's molecules"
        }
    if n_unique < MIN_OBSERVATIONS:
        return DEFAULT_ENCODING, {
            "encoding_reason": f"fewer than {MIN_OBSERVATIONS} measured candidates to compare "
                               "encodings; Morgan fingerprints until then"
        }
    scores: dict[str, float] = {}
    for encoding in LIBRARY_ENCODINGS:
        pool = encoder.features(encoding)
        try:
            gp = GPRegressor(kernel=encoder.default_kernel(encoding), seed=seed,
                             **(gp_params or {})).fit(pool[rows], y, domain=pool)
            scores[encoding] = round(gp.loo_log_likelihood(), 4)
            if fits is not None:
                fits[encoding] = gp
        except SurrogateFitError as exc:
            scores[encoding] = float("-inf")
            scores[f"{encoding}_error"] = str(exc)[:200]
    best = max(LIBRARY_ENCODINGS, key=lambda e: scores[e])
    return best, {
        "encoding_reason": "highest leave-one-out log likelihood of a GP",
        "encoding_scores": {e: scores[e] for e in LIBRARY_ENCODINGS},
    }


def features(setup, rows, y, record, fits: dict | None = None) -> tuple[torch.Tensor, str | None]:
    """A campaign's candidate features under its configured SMILES encoding, or the one
    chosen (`choose_encoding`, or kept from the last comparison: `reuse.kept_encoding`) and
    the encoding, for the observations `rows`, `y`; `setup` is the campaign's
    `modelling.ModelSetup` and `record` its `CycleRecord`, which is told the encoding and
    why. `fits` receives the GPs fitted to choose it.
    """
    cfg, encoder = setup.config, setup.encoder
    encoding = None
    if encoder.has_smiles:
        n_unique = len(set(np.asarray(rows).tolist()))
        kept = reuse.kept_encoding(setup.earlier, n_unique)
        if cfg.smiles_encoding in CHOSEN_ENCODINGS and kept is not None:
            encoding, chosen_on = kept, setup.earlier.encoding_n
            reuse.note(record, encoding=kept, encoding_n=chosen_on)
            record.encoding_reason = (f"highest leave-one-out log likelihood of a GP on "
                                      f"{chosen_on} measured candidates; compared again once "
                                      "they grow by half")
        elif cfg.smiles_encoding in CHOSEN_ENCODINGS:
            gp_params = ({k: v for k, v in cfg.surrogate_params.items()
                          if k not in ("kernel", "seed")} if cfg.surrogate == "gp" else {})
            encoding, why = choose_encoding(encoder, torch.as_tensor(rows), y, cfg.task,
                                            n_unique, cfg.seed, fits, gp_params,
                                            components=cfg.smiles_encoding == "auto")
            record.encoding_reason = why.get("encoding_reason")
            record.encoding_scores = why.get("encoding_scores")
            if record.encoding_scores:
                reuse.note(record, encoding=encoding, encoding_n=n_unique)
        else:
            encoding = cfg.smiles_encoding
        record.encoding = encoding
    return encoder.features(encoding), encoding
