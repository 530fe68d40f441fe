"""Campaign: the design-test loop over a table of candidates, logged durably.

`suggest(k)` fits the surrogate to what has been measured, scores the rest with the
acquisition function and logs the picks as pending; `observe(results)` records what the lab
measured. A simulation and a scientist run the same code: only who answers differs.

Opening a campaign, recording results and reading its log load no numerical library: the
encoder, the surrogates and PyTorch are imported by the steps that use them.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from designloop import registry
from designloop.campaign import history as log_tables
from designloop.campaign.config import CampaignConfig, check_log
from designloop.campaign.custom import custom_objects
from designloop.campaign.filters import checked, ruled_out
from designloop.campaign.matching import ID
from designloop.campaign.matching import candidate_ids as candidate_ids_checked
from designloop.campaign.objectives import for_model, measured_ids
from designloop.campaign.recording import read_results, record
from designloop.campaign.results import check_count, retraction_ids, split_observations
from designloop.campaign.store import Store
from designloop.errors import CalibrationWarning, InputError
from designloop.io import write_table
from designloop.records import CycleRecord
from designloop.threads import step_threads


class Campaign:
    """A design-test campaign over a fixed table of candidates.

    Args:
        candidates: one row per candidate experiment. A column named like the target holds
            results already measured (empty where not); `candidate_id` is added (0..N-1).
        target: the column the lab measures.
        task: "regression" or "classification".
        goal: "explore" (learn the whole space), "maximize" or "minimize" ("maximise",
            "max", "minimise", "min" too: every name here is read through the one table of
            spellings in `designloop.names`, hyphens or underscores, any case).
        surrogate: a name from `designloop.SURROGATES` or a surrogate object (fit/predict).
            Default: "gp" for regression; "auto" for classification, which uses the
            classifier (GP classifier, deep ensemble, forest or label spreading over the
            pool) with the lowest cross-validated Brier score on the labels so far and logs
            why.
        acquisition: a name from `designloop.ACQUISITIONS` (default: "max_variance" to
            explore, "log_expected_improvement" to optimise, "margin" for classification; short
            names such as "ei", "log-ei", "pi" or "variance" are accepted) or a
            function `(prediction, **context) -> scores (N,)`. Objects of the user's own
            making are not stored in the log: pass them again to `Campaign.open`.
        batch_size: default number of suggestions per cycle.
        seed: same seed, same suggestions.
        store: a Store, a path to a SQLite file, or None for an in-memory log.
        roles: column -> "numeric" | "categorical" | "smiles", overriding the inference.
        smiles_encoding: "auto" or "likelihood" (see `choose_encoding`), or a fixed "onehot",
            "morgan", "descriptors" (RDKit's) or "mordred".
        surrogate_params, acquisition_params: passed to the surrogate's constructor and to
            the acquisition (e.g. {"beta": 3.0} for ucb).
        ignore: columns that are neither features nor target (notes, ids).
        fingerprint: Morgan settings for SMILES columns: {"morgan_radius": 2,
            "morgan_bits": 1024, "morgan_counts": False}.
        selection: how a batch is chosen: "auto" (greedy GP conditioning for GPs, BatchBALD
            for classification BALD, kriging believer or a diverse shortlist otherwise),
            "top_k", "greedy", "kriging_believer", "qlognei", "qucb", "batch_bald",
            "diverse" or "density".
        initial_design: "random", "maximin" or "kmeans" while nothing is measured; default
            "random" to optimise and "kmeans" (representative candidates) to explore or
            classify.
        incumbent: the best value so far that improvement acquisitions (EI, log-EI, PI)
            try to beat: "posterior" (the surrogate's best mean at the measured candidates,
            robust to noise, as noisy EI does) or "observed" (the best measured value).
        diagnostics: check the surrogate's calibration every cycle (leave-one-out for GPs,
            5-fold otherwise), log it and warn when it is clearly miscalibrated.
        where: a filter that rules candidates out of every suggestion, such as
            "temperature <= 120 and solvent != 'DMF'" (see `restrict`).
        targets: several regression targets instead of `target`: `{"yld": "max", "cost":
            "min"}`, or per target `{"goal": "max", "lower": 0, "upper": 100, "weight": 2}`;
            a results row may report some of them (see `designloop.campaign.objectives`).
        objective: how several targets are combined: "pareto" (the trade-off; default) or
            "desirability" (a weighted geometric mean between each target's bounds).
        constraints: outcome constraints on measured columns, such as ["purity >= 0.95"]:
            each is modelled by a GP, and the picks are weighted by the chance of meeting it.
    """

    def __init__(self, candidates: pd.DataFrame, target: str | None = None,
                 task: str = "regression",
                 goal: str = "explore", surrogate: str | None = None,
                 acquisition: str | None = None, batch_size: int = 1, seed: int = 0,
                 store: Store | str | Path | None = None, roles: dict | None = None,
                 smiles_encoding: str = "auto", surrogate_params: dict | None = None,
                 acquisition_params: dict | None = None, ignore: list[str] | None = None,
                 fingerprint: dict | None = None, selection: str = "auto",
                 initial_design: str | None = None, incumbent: str = "posterior",
                 diagnostics: bool = True, source: str = "candidates", where: str | None = None,
                 targets: dict | None = None, objective: str | None = None,
                 constraints: list[str] | None = None):
        from designloop.features.encoding import Encoder

        config = CampaignConfig.create(
            candidates, target=target, task=task, goal=goal, surrogate=surrogate,
            acquisition=acquisition, batch_size=batch_size, seed=seed, roles=roles,
            smiles_encoding=smiles_encoding, surrogate_params=surrogate_params,
            acquisition_params=acquisition_params, ignore=ignore, source=source,
            fingerprint=fingerprint, selection=selection, initial_design=initial_design,
            incumbent=incumbent, diagnostics=diagnostics, targets=targets, objective=objective,
            constraints=constraints,
        )
        names = [config.target, *config.targets]
        table = candidates.drop(columns=names, errors="ignore").reset_index(drop=True)
        table.insert(0, ID, np.arange(len(table)))
        try:
            encoder = Encoder(roles=roles, **config.fingerprint)
        except TypeError as exc:
            raise InputError(f"fingerprint settings: {exc}") from None
        encoder.fit(table, config.feature_columns, source)
        where = checked(where, table, "filter")
        config.roles = encoder.roles_
        if config.surrogate == "gp":  # the prior that suits the features, kept in the log
            config.surrogate_params.setdefault("prior", encoder.default_prior())
        known = (read_results(config, candidates, table, source, ids=table[ID].to_numpy())
                 if set(names) & set(candidates.columns) else None)  # results in the table
        self.store = store if isinstance(store, Store) else Store(store or ":memory:")
        with self.store.transaction():  # the configuration and known results, or nothing
            self.store.initialise(config.to_dict(), table)
            self._load(surrogate, acquisition)
            if known is not None:
                record(self.store, config, known, source, allow_replicates=True)
            if where is not None:
                self.store.set_filter(where)

    @classmethod
    def open(cls, store: Store | str | Path, surrogate=None, acquisition=None) -> Campaign:
        """Resume the campaign logged in `store` (a path or a Store).

        Args:
            store: the campaign file or Store.
            surrogate, acquisition: the objects, when the campaign was created with a
                surrogate class or acquisition function of the user's own.
        """
        if not isinstance(store, Store):
            if not Path(store).exists():
                raise InputError(f"campaign file {store} does not exist; create it with init")
            store = Store(store)
        self = cls.__new__(cls)
        self.store = store
        self._load(surrogate, acquisition)
        return self

    def _load(self, surrogate=None, acquisition=None) -> None:
        self.config = cfg = CampaignConfig.from_dict(self.store.config(), self.store.path)
        self.candidates = self.store.candidates()
        self._encoder = None
        check_log(self.config, self.candidates, self.store)
        self._surrogate_object, self._acquisition_object = custom_objects(
            cfg, surrogate, acquisition)

    @property
    def encoder(self):
        """The Encoder of the candidate table (built when first needed). Its feature matrices
        are cached in the campaign's store, so a campaign reopened later reads them back
        instead of parsing and encoding its molecules again; the SMILES, checked when the
        campaign was made, are parsed only when a matrix has to be built."""
        if self._encoder is None:
            from designloop.features.encoding import Encoder

            cfg = self.config
            self._encoder = Encoder(roles=cfg.roles, **cfg.fingerprint, cache=self.store).fit(
                self.candidates, cfg.feature_columns, "candidates", check_smiles=False)
        return self._encoder

    # ------------------------------------------------------------------ the loop
    def suggest(self, k: int | None = None) -> pd.DataFrame:
        """The next k candidates to measure, logged as pending.

        Returns:
            The chosen candidate rows with `candidate_id`, `cycle`, `rank`, `score`, the
            prediction (`predicted_mean`, `predicted_sd` or `prob_<class>`) and an empty
            target column to fill in. Once a model is fitted: `ood_score` and
            `extrapolation`; for regression the conformal 90% interval `interval_lo`,
            `interval_hi` (NaN until `pick_info.INTERVAL_MIN_RESULTS`, 9, results are in);
            for classification `prediction_set`; when maximising or minimising
            `p_improve`, the model's probability that the candidate beats the best so far
            (the incumbent the acquisition uses).
        """
        # one write transaction from reading the log to logging the picks: another process
        # suggesting at the same time waits, then sees these picks as pending
        with self.store.transaction():
            cycle, rows, record = self._suggest(k)
        for message in record.warnings:
            warnings.warn(message, CalibrationWarning, stacklevel=2)
        return log_tables.suggestion_table(self.candidates, self.config, cycle, rows)

    def model_setup(self):
        """What the model step needs from this campaign (`modelling.ModelSetup`)."""
        from designloop.acquisition import get_acquisition
        from designloop.campaign import modelling, reuse

        cfg = self.config
        function = (self._acquisition_object if self._acquisition_object is not None
                    else get_acquisition(cfg.acquisition))
        return modelling.ModelSetup(cfg, self.encoder, function, self._surrogate_object,
                                    reuse.earlier(self.store, cfg))

    def _suggest(self, k: int | None) -> tuple[int, list[dict], CycleRecord]:
        from designloop.campaign import modelling, pareto

        cfg = self.config
        k = cfg.batch_size if k is None else k
        cycle = self.store.next_cycle()
        rng = np.random.default_rng([cfg.seed, cycle])
        every, raw, failed_rows = split_observations(self.store)
        obs, record_objective = for_model(cfg, raw)
        measured = measured_ids(cfg, every)
        expression, banned = ruled_out(self.store, self.candidates)
        excluded = sorted(set(measured) | set(self.store.pending()) | set(banned))
        check_count(k, len(self.candidates), len(excluded), expression)
        record = CycleRecord(k=int(k), seed=cfg.seed, candidate_filter=expression,
                             objective=record_objective)
        predictions: list[dict] = [{} for _ in range(k)]
        scores: np.ndarray = np.full(k, np.nan)
        setup = self.model_setup()
        no_model = modelling.no_model_reason(cfg.task, obs, len(failed_rows))
        if no_model:  # the initial design, or picks far from what was measured
            kind, acq_name, picks = modelling.spread(setup, no_model, obs, measured, excluded,
                                                     k, rng, record)
            surrogate = None
        else:
            gp = registry.exact_gp_named(cfg.surrogate)
            with step_threads(len(self.candidates), len(obs), gp):
                if cfg.objective == "pareto":
                    picks, scores, predictions = pareto.pick(
                        setup, obs, excluded, k, record, len(self.candidates), failed_rows)
                else:
                    picks, scores, predictions = modelling.pick(
                        setup, obs, measured, excluded, k, rng, record, len(self.candidates),
                        failed_rows, raw)
            chosen = (record.surrogate_choice or {}).get("chosen")
            kind, surrogate, acq_name = "model", chosen or cfg.surrogate, (
                pareto.ACQUISITION if cfg.objective == "pareto" else cfg.acquisition)
        rows = [
            {"candidate_id": int(c), "rank": r + 1,
             "score": None if np.isnan(scores[r]) else float(scores[r]),
             "prediction": predictions[r]}
            for r, c in enumerate(picks)
        ]
        self.store.record_cycle(cycle, kind, surrogate, acq_name, len(every), record, rows)
        return cycle, rows, record

    def observe(self, results: pd.DataFrame, source: str = "results",
                allow_replicates: bool = False, feasible: str | None = None) -> int:
        """Record measured results; returns how many experiments were recorded.

        Rows are matched to candidates by `candidate_id` (whose feature values, where the
        row has them too, must agree) or by the feature columns. Rows whose target cell is
        empty are skipped (their candidates stay pending). All rows are checked before
        anything is written: one bad row writes nothing.

        An experiment that gave nothing to measure is recorded as failed: its target cell
        reads `failed` (any case; regression targets), or the 0/1 column named by
        `feasible` holds 0. A failed candidate is not suggested again, and once failures
        and successes are both in, a classifier of success weights the acquisition (see
        `designloop.campaign.feasibility`).

        A new measurement of a measured candidate is kept as a replicate, but a row that
        repeats a recorded measurement exactly (same candidate, same value), or an earlier
        row of the same results, is refused: that is the same file observed twice, not a
        new experiment. Replicates that truly came out identical (a class label measured
        again, say) are recorded with `allow_replicates=True`.
        """
        found = read_results(self.config, results, self.candidates, source, feasible)
        return record(self.store, self.config, found, source, allow_replicates)

    def release(self, candidate_ids: list[int] | None = None) -> int:
        """Forget pending suggestions (all, or these candidate ids, each a whole number from
        0 to N - 1) so they can be suggested again."""
        if candidate_ids is None:
            return self.store.release(None)
        ids = candidate_ids_checked(list(candidate_ids), len(self.candidates), "release")
        return self.store.release(ids.tolist())

    def restrict(self, where: str | None) -> int:
        """Rule out candidates by a filter such as `"temperature <= 120 and solvent !=
        'DMF'"` (see `designloop.campaign.filters`), or lift it with None; returns how many
        candidates the filter allows. The filter is logged, replaces the one in force, and
        applies from the next suggestion on (pending ones stay)."""
        where = checked(where, self.candidates, "filter")
        self.store.set_filter(where)
        return len(self.candidates) - len(ruled_out(self.store, self.candidates)[1])

    @property
    def candidate_filter(self) -> str | None:
        """The filter on the candidates in force (None: every candidate may be suggested)."""
        return self.store.candidate_filter()

    def forget(self, candidate_ids: list[int] | None = None,
               observation_ids: list[int] | None = None, reason: str = "") -> int:
        """Retract wrong measurements; returns how many were retracted.

        Give candidate ids (every measurement in force of those candidates, as in the
        suggestions) or observation ids (single measurements: the `id` column of
        `observations()`). They stay in the campaign file, marked retracted with the time
        and `reason`, but no longer count: the surrogate, `status`, `best` and `history`
        see only the measurements in force, and `observations(retracted=True)` lists all.
        An id that is not a candidate, or has nothing in force to retract, is refused.
        """
        chosen = retraction_ids(self.store, len(self.candidates), candidate_ids,
                                observation_ids)
        self.store.retract(chosen, str(reason))
        return len(chosen)

    # ------------------------------------------------------------------ reading the log
    def observations(self, retracted: bool = False) -> pd.DataFrame:
        """Every measurement in force (replicates as separate rows) beside its candidate's
        columns, with a column `failed` (a failed experiment's target reads "failed"); with
        `retracted`, also those retracted by `forget` (with `retracted_at` and `reason`)."""
        obs = self.store.observations(retracted, failed=True).rename(  # several: target, value
            columns={} if self.config.targets else {"value": self.config.target})
        return obs.merge(self.candidates, on=ID, how="left", suffixes=("", "_candidate"))

    def history(self) -> pd.DataFrame:
        """One row per suggestion of every cycle: when, by which surrogate/acquisition and
        settings, the prediction, and what came back (mean of replicates, count)."""
        return log_tables.history_frame(self)

    def export(self, path: str | Path) -> Path:
        """Write `history()` to a CSV file and return its path (text cells that a
        spreadsheet would run as formulas are quoted: see `designloop.io.neutralise`)."""
        write_table(self.history(), Path(path))
        return Path(path)

    def best(self) -> pd.Series:
        """The measured candidate with the best mean value (maximize/minimize campaigns)."""
        return log_tables.best_row(self)

    def pareto_front(self) -> pd.DataFrame:
        """The measured candidates no other beats on every target (means of replicates; a
        campaign of several targets), with their columns and target values."""
        return log_tables.pareto_rows(self)

    def status(self) -> dict:
        """Counts for a quick look: candidates, measured, pending, cycles, best so far."""
        return log_tables.status_dict(self)

    def score_candidates(self) -> pd.DataFrame | None:
        """Acquisition scores of every unmeasured candidate under the current surrogate
        (weighted by the chance of success once experiments have failed), without logging
        anything (None while no model can be fitted yet)."""
        from designloop.campaign import predictions

        return predictions.score_candidates(self)

    def predict(self, table: pd.DataFrame | None = None, source: str = "table") -> pd.DataFrame:
        """What the model says about every candidate (`table` None) or each row of `table`
        (`source` names it in errors), without logging anything.

        A row is matched to its candidate by `candidate_id` or by its feature values; a row
        that is no candidate (every feature filled: other conditions, a new molecule) is
        encoded with the candidates and predicted by the model refitted on that encoding.

        Returns:
            The rows (the candidates, or `table` with `candidate_id`, empty for a row that
            is none) with, for regression, `predicted_mean`, `predicted_sd`, `epistemic_sd`,
            the conformal 90% interval `interval_lo`, `interval_hi` (NaN until finite, from
            9 results) and, when optimising, `p_improve` (the chance of beating the best so
            far); for classification `prob_<class>` and the 90% `prediction_set`; once
            experiments have failed `p_success`; `ood_score` and `extrapolation`.
            InputError: no model yet, an id that is no candidate, a bad feature value
            (naming its line), or several targets.
        """
        from designloop.campaign import predictions

        return predictions.predict(self, table, source)

    def report(self, path: str | Path | None = None):
        """The campaign report (progress, calibration, latest suggestions with uncertainty
        and extrapolation flags, a map of the candidates, the log); shown in a notebook,
        written as one self-contained HTML file when `path` is given."""
        from designloop.campaign.report import Report, build_report

        report = Report(build_report(self))
        if path is not None:
            report.save(path)
        return report

    def _repr_html_(self) -> str:
        """Notebook view: the status, the best result and the latest suggestions."""
        return log_tables.html_summary(self)

    def __repr__(self) -> str:
        s, cfg = self.status(), self.config
        what = (f"targets={list(cfg.targets)}, objective={cfg.objective!r}" if cfg.objective
                else f"target={cfg.target!r}, goal={cfg.goal!r}")
        return (f"Campaign({what}, "
                f"{s['measured']}/{s['candidates']} measured, {s['pending']} pending)")
