"""Decision quality: how many experiments designloop's default campaign needs to find the
best candidates, against random, named alternatives, BoTorch's plain loop and BayBE's
default campaign, on the same pools and seeds. Regenerates docs/benchmarks.md.

Studies (each campaign is the real Campaign, run by `designloop.bench.simulate.run_campaign`):
- test functions over seeded 10,000-candidate Sobol pools (the pool changes with the seed):
  Hartmann6 and Levy (4-D), 10 random initial points + 40 picks one at a time, 10 seeds;
  best value after 30 and 50 evaluations and how often the pool's optimum is found;
- every regression lookup table bundled with designloop: batches of 3, 30 experiments,
  20 seeds; top-1% rows found by 30 experiments and the best value found;
- classification (digits, breast cancer, metallic glass): 10 initial labels + 40 picks one
  at a time, 5 seeds; accuracy over the whole pool at 50 labels.

Peers: BoTorch's plain loop (SingleTaskGP with its default priors, qLogNEI through
`optimize_acqf_discrete`, random initial points, one-hot categories and SMILES, Morgan bits
for a SMILES column of more than 100 molecules) runs in this process. BayBE's default
campaign (random first batch, then its GP and qLogEI; SMILES as its default substance
encoding, and as one-hot) runs in its own environment, created once under
benchmarks/.venv-baybe (never a dependency of designloop).

Results are appended per campaign to benchmarks/results/<study>.csv, so that an
interrupted run resumes where it stopped and the page can be rebuilt without rerunning:

    python benchmarks/decisions.py [--studies hartmann6,buchwald_hartwig,...]
        [--strategies default,random,...] [--seeds N] [--n-jobs 2] [--no-baybe]
        [--report-only] [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import subprocess
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from _peers import baybe_python
from scipy import stats

from designloop.bench.problems import Problem, make_problem
from designloop.bench.simulate import run_campaign
from designloop.bench.strategies import Strategy

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
ONEHOT_MAX_MOLECULES = 100


@dataclass(frozen=True)
class Study:
    name: str
    problem: str  # designloop.make_problem name
    kind: str  # "function", "table" or "classification"
    budget: int
    batch_size: int
    n_initial: int
    seeds: int
    alt_seeds: int = 10  # seeds for the named alternatives (the first of `seeds`)
    per_seed_pool: bool = False
    pool_size: int = 10_000
    checkpoints: tuple[int, ...] = ()

    def make(self, seed: int) -> Problem:
        if self.per_seed_pool:
            return make_problem(self.problem, n_candidates=self.pool_size, seed=seed)
        return lookup_problem(self.problem) if self.kind == "table" else make_problem(
            self.problem)


TABLES = ("suzuki", "fullerenes", "steels", "reizman_suzuki", "esol", "buchwald_hartwig",
          "suzuki_miyaura")
STUDIES = {
    **{name: Study(name, name, "function", 50, 1, 10, 10, per_seed_pool=True,
                   checkpoints=(30, 50)) for name in ("hartmann6", "levy")},
    # the named alternatives run on the first 10 seeds, 6 on the tables of molecules
    **{name: Study(name, name, "table", 30, 3, 3, 20, checkpoints=(15, 30),
                   alt_seeds=6 if name in ("esol", "buchwald_hartwig", "suzuki_miyaura")
                   else 10)
       for name in TABLES},
    **{name: Study(name, name, "classification", 50, 1, 10, 5, alt_seeds=3)
       for name in ("digits", "breast_cancer", "metallic_glass")},
}

# inputs scaled by the pool's range instead of the measured candidates' range
SCALING_DOMAIN = Strategy("scaling=domain",
                          options={"surrogate_params": {"input_scaling": "domain"}})
# named alternatives to the default, by kind of study; "default" is the Campaign with no
# setting given, "random" the same campaign with random picks after the initial design
ALTERNATIVES = {
    "function": [Strategy("init=maximin", options={"initial_design": "maximin"}),
                 Strategy("init=kmeans", options={"initial_design": "kmeans"}),
                 Strategy("incumbent=observed", options={"incumbent": "observed"}),
                 Strategy("prior=gamma", options={"surrogate_params": {"prior": "gamma"}}),
                 SCALING_DOMAIN,
                 # BoTorch's qLogNEI for each pick instead of the analytic log EI
                 Strategy("batch=qlognei", selection="qlognei"),
                 # BoTorch's default kernel (squared exponential) instead of Matern-5/2
                 Strategy("kernel=rbf", options={"surrogate_params": {"kernel": "rbf"}}),
                 # both: the model and the picks of BoTorch's plain loop
                 Strategy("kernel=rbf+batch=qlognei", selection="qlognei",
                          options={"surrogate_params": {"kernel": "rbf"}}),
                 # L-BFGS to convergence, as BoTorch's own fit does, instead of 200 steps
                 Strategy("fit=converged", options={"surrogate_params": {"max_iter": 15_000}})],
    "table": [Strategy("init=kmeans", options={"initial_design": "kmeans"}),
              Strategy("incumbent=observed", options={"incumbent": "observed"}),
              Strategy("batch=qlognei", selection="qlognei"),
              Strategy("prior=gamma", options={"surrogate_params": {"prior": "gamma"}}),
              Strategy("prior=dim_scaled",
                       options={"surrogate_params": {"prior": "dim_scaled"}}),
              SCALING_DOMAIN,
              # the SMILES encoding: the leave-one-out likelihood choice among one-hot,
              # Morgan and RDKit descriptors (the default before Mordred descriptors for
              # reaction components), and each encoding fixed
              *[Strategy(f"encoding={e}", options={"smiles_encoding": e})
                for e in ("likelihood", "onehot", "morgan", "descriptors", "mordred")]],
    "classification": [Strategy("init=random", options={"initial_design": "random"}),
                       # the default surrogate choice with other acquisitions (BALD was the
                       # default until margin sampling beat it)
                       Strategy("acquisition=bald", acquisition="bald"),
                       Strategy("acquisition=entropy", acquisition="entropy"),
                       Strategy("bald@ensemble", acquisition="bald", surrogate="ensemble"),
                       Strategy("bald@gp_classifier", acquisition="bald",
                                surrogate="gp_classifier")],
}


def lookup_problem(name: str) -> Problem:
    """A bundled lookup table as a problem; rows with the same features (replicates) become
    one candidate whose truth is their mean, so that every method sees the same pool."""
    problem = make_problem(name)
    cols = list(problem.candidates.columns)
    frame = problem.candidates.assign(_value=problem.values)
    merged = frame.groupby(cols, sort=False, as_index=False)["_value"].mean()
    problem.candidates = merged[cols].reset_index(drop=True)
    problem.values = merged["_value"].to_numpy(float)
    return problem


CORE = ("default", "random", "botorch", "baybe", "baybe-onehot")
# BoTorch's loop from the default campaign's own initial points: the two then differ only in
# what they pick next, not in the luck of the start
BOTORCH_SAME_START = "botorch@default-start"


def strategies_for(study: Study, baybe: bool) -> list[Strategy]:
    default_prior = f"prior={encoder(study).default_prior()}"
    molecules = bool(smiles_columns(study)) if study.kind == "table" else False
    out = [Strategy.parse("default"), Strategy("random", acquisition="random"),
           *[s for s in ALTERNATIVES[study.kind] if s.name != default_prior
             and (molecules or not s.name.startswith("encoding="))]]
    if study.kind != "classification":
        out.append(Strategy("botorch"))
        if study.kind == "function":
            out.append(Strategy(BOTORCH_SAME_START))
        if baybe and study.kind == "table":
            out.append(Strategy("baybe"))
            if smiles_columns(study) and max_molecules(study) <= ONEHOT_MAX_MOLECULES:
                out.append(Strategy("baybe-onehot"))
    return out


def encoder(study: Study):
    from designloop.features.encoding import Encoder

    cands = study.make(0).candidates
    return Encoder().fit(cands, list(cands.columns))


def smiles_columns(study: Study) -> list[str]:
    return encoder(study).smiles_columns


def max_molecules(study: Study) -> int:
    cands = study.make(0).candidates
    return max((cands[c].nunique() for c in smiles_columns(study)), default=0)


# ---------------------------------------------------------------------- peers
def plain_features(problem: Problem) -> np.ndarray:
    """What a plain BoTorch loop is given: numbers scaled to [0, 1], one-hot categories and
    SMILES (Morgan bits for a SMILES column of more than 100 molecules)."""
    from designloop.features.encoding import Encoder

    cands = problem.candidates
    enc = Encoder().fit(cands, list(cands.columns))
    many = any(cands[c].nunique() > ONEHOT_MAX_MOLECULES for c in enc.smiles_columns)
    return enc.features("morgan" if many else "onehot").numpy()


def botorch_loop(problem: Problem, seed: int, study: Study,
                 initial: list[int] | None = None) -> list[dict]:
    """BoTorch's plain discrete loop: SingleTaskGP (default priors and transforms), qLogNEI,
    `optimize_acqf_discrete` for the batch, random initial points (or `initial`)."""
    import torch
    from botorch.acquisition.logei import qLogNoisyExpectedImprovement
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms import Normalize, Standardize
    from botorch.optim import optimize_acqf_discrete
    from gpytorch.mlls import ExactMarginalLogLikelihood

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    X = torch.as_tensor(plain_features(problem), dtype=torch.float64)
    sign = 1.0 if problem.goal == "maximize" else -1.0
    rng = np.random.default_rng(seed)
    measured = [int(i) for i in (rng.choice(len(X), study.n_initial, replace=False)
                                 if initial is None else initial)]
    rows, cycle = [], 1
    rows.append(_row(problem, "botorch", seed, cycle, measured, 0.0))
    while len(measured) < study.budget:
        cycle += 1
        k = min(study.batch_size, study.budget - len(measured))
        start = time.perf_counter()
        train_X = X[measured]
        train_Y = sign * torch.as_tensor(problem.values[measured], dtype=torch.float64)[:, None]
        model = SingleTaskGP(train_X, train_Y, input_transform=Normalize(X.shape[1]),
                             outcome_transform=Standardize(1))
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        acq = qLogNoisyExpectedImprovement(model, X_baseline=train_X, prune_baseline=True)
        available = np.setdiff1d(np.arange(len(X)), measured)
        chosen, _ = optimize_acqf_discrete(acq, q=k, choices=X[available], unique=True,
                                           max_batch_size=2048)
        # rows of the pool equal to the chosen ones (ties between identical rows: first free)
        for row in chosen:
            hits = available[(X[available] == row).all(1).numpy()]
            pick = int(next(h for h in hits if h not in measured))
            measured.append(pick)
        rows.append(_row(problem, "botorch", seed, cycle, measured,
                         time.perf_counter() - start))
    return rows


def default_start(problem: Problem, seed: int, study: Study) -> list[int]:
    """The default campaign's initial design on this problem and seed."""
    from designloop import Campaign

    campaign = Campaign(problem.candidates, target=problem.target, task=problem.task,
                        goal=problem.goal, seed=seed, diagnostics=False)
    return [int(i) for i in campaign.suggest(study.n_initial)["candidate_id"]]


def random_loop(problem: Problem, seed: int, study: Study) -> list[dict]:
    """Random picks without replacement, in the study's batches (no model is fitted)."""
    order = np.random.default_rng([seed, 7919]).permutation(len(problem.candidates))
    rows, n, cycle = [], 0, 0
    while n < study.budget:
        cycle += 1
        n = min(n + (study.n_initial if cycle == 1 else study.batch_size), study.budget)
        rows.append(_row(problem, "random", seed, cycle, order[:n].tolist(), 0.0))
    return rows


def _row(problem: Problem, strategy: str, seed: int, cycle: int, measured: list[int],
         seconds: float) -> dict:
    truth = problem.values[np.asarray(measured)]
    best = truth.max() if problem.goal == "maximize" else truth.min()
    top = problem.top_mask(0.01)
    row = {"problem": problem.name, "strategy": strategy, "seed": seed, "cycle": cycle,
           "n_observed": len(measured), "suggest_seconds": seconds,
           "best_so_far": float(best), "top1_found": int(top[np.unique(measured)].sum())}
    reference = problem.optimum if problem.optimum is not None else problem.best_in_pool
    row["simple_regret"] = float(abs(reference - best))
    return row


def baybe_runs(study: Study, encoding: str, seeds: list[int]) -> list[dict]:
    """BayBE's default campaign on the study's table for these seeds (its own process)."""
    problem = study.make(0)
    smiles = smiles_columns(study)
    table = problem.candidates.copy()
    for col in smiles:  # BayBE needs a molecule in every cell: "none" becomes no atoms
        table[col] = table[col].astype(str).replace({"none": "[H][H]"})
    name = "baybe" if encoding == "default" else "baybe-onehot"
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "candidates.csv"
        table.to_csv(csv, index=False)
        spec = {"candidates": str(csv), "values": problem.values.tolist(),
                "goal": problem.goal, "smiles": smiles, "encoding": encoding, "seeds": seeds,
                "budget": study.budget, "batch_size": study.batch_size,
                "n_initial": study.n_initial}
        spec_path = Path(tmp) / "spec.json"
        spec_path.write_text(json.dumps(spec))
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        out = subprocess.run([baybe_python(), str(HERE / "_baybe_campaign.py"), str(spec_path)],
                             capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"BayBE on {study.name} failed: {out.stderr[-2000:]}")
    rows, measured = [], {}
    for line in out.stdout.splitlines():
        if not line.startswith("{"):
            continue
        rec = json.loads(line)
        ids = measured.setdefault(rec["seed"], [])
        ids.extend(rec["ids"])
        rows.append(_row(problem, name, rec["seed"], rec["cycle"], list(ids),
                         rec["suggest_seconds"]))
    return rows


# ---------------------------------------------------------------------- running
def run_job(study: Study, strategy: Strategy, seeds: list[int]) -> list[dict]:
    """One strategy on a study for the given seeds (designloop, BoTorch or BayBE)."""
    if strategy.name in ("baybe", "baybe-onehot"):
        return baybe_runs(study, "default" if strategy.name == "baybe" else "onehot", seeds)
    rows = []
    for seed in seeds:
        problem = study.make(seed)
        if strategy.name == "botorch":
            rows += botorch_loop(problem, seed, study)
        elif strategy.name == BOTORCH_SAME_START:
            rows += botorch_loop(problem, seed, study, default_start(problem, seed, study))
        elif strategy.name == "random" and study.kind != "classification":
            rows += random_loop(problem, seed, study)
        else:
            metrics = "final" if study.kind == "classification" else False
            rows += run_campaign(problem, strategy, seed, study.budget, study.batch_size,
                                 study.n_initial, metrics=metrics)
    for r in rows:
        r["strategy"] = strategy.name
    return rows


def done_seeds(study: Study, strategy: str) -> set[int]:
    path = RESULTS / f"{study.name}.csv"
    if not path.exists():
        return set()
    df = pd.read_csv(path)
    df = df[df.strategy == strategy]
    last = df.groupby("seed").n_observed.max()
    return {int(s) for s, n in last.items() if n >= study.budget}


BAYBE_CHUNK = 5  # seeds per BayBE process (each builds its search space once)


def run(studies: list[Study], only: set[str] | None, seeds: int | None, n_jobs: int,
        baybe: bool, all_seeds: bool = False) -> None:
    """Run what is missing, seeds in blocks of five: every study and strategy gets seeds
    0-4 before any gets 5-9 (the peers and the default before the named alternatives), so
    that an interrupted run still compares like with like."""
    RESULTS.mkdir(exist_ok=True)
    jobs = []
    for index, study in enumerate(studies):
        n = seeds or study.seeds
        for strategy in strategies_for(study, baybe):
            if only and strategy.name not in only:
                continue
            count = n if strategy.name in CORE or all_seeds else min(n, study.alt_seeds)
            todo = [s for s in range(count) if s not in done_seeds(study, strategy.name)]
            if strategy.name.startswith("baybe"):
                groups = [[s for s in todo if s // BAYBE_CHUNK == b]
                          for b in sorted({s // BAYBE_CHUNK for s in todo})]
            else:
                groups = [[s] for s in todo]
            for g in groups:
                key = (g[0] // BAYBE_CHUNK, strategy.name not in CORE,
                       strategy.name.startswith("baybe"), index)
                jobs.append((key, (study, strategy, g)))
    jobs = [job for _, job in sorted(jobs, key=lambda kj: kj[0])]
    print(f"# {len(jobs)} jobs", flush=True)
    if not jobs:
        return
    if any(strategy.name.startswith("baybe") for _, strategy, _ in jobs):
        baybe_python()  # create its environment once, before the workers need it
    # fresh interpreters: a fork after torch has started its thread pool can hang
    with ProcessPoolExecutor(n_jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(run_job, *job): job for job in jobs}
        for i, future in enumerate(as_completed(futures), 1):
            study, strategy, group = futures[future]
            try:
                rows = future.result()
            except Exception as exc:  # a failed peer is reported, not fatal
                print(f"! {study.name} {strategy.name} {group}: {exc}", flush=True)
                record_failure(study.name, strategy.name, group, exc)
                continue
            path = RESULTS / f"{study.name}.csv"
            frame = pd.DataFrame(rows)
            if path.exists():
                frame = pd.concat([pd.read_csv(path), frame], ignore_index=True)
            frame.to_csv(path, index=False)
            print(f"[{i}/{len(jobs)}] {study.name} {strategy.name} seeds {group}", flush=True)


def record_failure(study: str, strategy: str, seeds: list[int], exc: Exception) -> None:
    """Keep the last line of a failed run's error for the page."""
    lines = [line.strip(" |") for line in str(exc).splitlines() if line.strip(" |")]
    row = pd.DataFrame([{"study": study, "strategy": strategy, "seeds": str(seeds),
                         "error": lines[-1][:300] if lines else type(exc).__name__}])
    path = RESULTS / "failures.csv"
    row.to_csv(path, mode="a", index=False, header=not path.exists())


# ---------------------------------------------------------------------- the page
def interval(values) -> tuple[float, float, float]:
    """Mean and its 95% t-interval."""
    v = np.asarray(values, dtype=float)
    mean = float(v.mean())
    if len(v) < 2 or v.std() == 0:
        return mean, mean, mean
    half = float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return mean, mean - half, mean + half


def difference(a, b) -> tuple[float, float, float]:
    """Mean of a minus mean of b and its 95% Welch interval."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    diff = float(a.mean() - b.mean())
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = np.sqrt(va + vb)
    if se == 0:
        return diff, diff, diff
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = float(stats.t.ppf(0.975, dof) * se)
    return diff, diff - half, diff + half


def fmt(ci, digits: int = 3) -> str:
    mean, lo, hi = ci
    return f"{mean:.{digits}g} [{lo:.{digits}g}, {hi:.{digits}g}]"


def at(df: pd.DataFrame, n: int, column: str) -> pd.Series:
    """Per (strategy, seed): the value of `column` once n experiments were run."""
    sub = df[df.n_observed <= n].sort_values("n_observed", kind="stable")
    return sub.groupby(["strategy", "seed"])[column].last()


def study_table(study: Study, df: pd.DataFrame) -> tuple[str, dict]:
    order = [s.name for s in strategies_for(study, True)]
    present = [s for s in order if s in set(df.strategy)]
    summary: dict = {}
    if study.kind == "classification":
        final = df[df.n_observed == study.budget].groupby(["strategy", "seed"]).accuracy.last()
        lines = [f"| strategy | accuracy at {study.budget} labels (mean [95% CI]) | seeds |",
                 "|---|---|---|"]
        for s in present:
            v = final[s].to_numpy()
            summary[s] = interval(v)
            lines.append(f"| {s} | {fmt(summary[s])} | {len(v)} |")
        return "\n".join(lines), summary
    a, b = study.checkpoints
    if study.kind == "table":
        head = (f"| strategy | top-1% found by {b} | minus random | best by {a} | best by {b} "
                "| seeds | s per cycle |")
        metric = "top1_found"
    else:
        head = (f"| strategy | best by {a} | best by {b} | minus random (by {a}) | optimum found "
                f"by {b} | seeds | s per cycle |")
        metric = "best_so_far"
    lines = [head, "|---|---|---|---|---|---|---|"]
    rand = at(df, b if study.kind == "table" else a, metric)
    for s in present:
        sub = df[df.strategy == s]
        best_a, best_b = at(sub, a, "best_so_far")[s], at(sub, b, "best_so_far")[s]
        secs = sub[sub.cycle > 1].suggest_seconds.mean()
        if study.kind == "table":
            top = at(sub, b, metric)[s]
            summary[s] = interval(top)
            vs = difference(top, rand["random"]) if "random" in rand else (np.nan,) * 3
            lines.append(f"| {s} | {fmt(summary[s])} | {fmt(vs)} | {fmt(interval(best_a))} | "
                         f"{fmt(interval(best_b))} | {len(top)} | {secs:.2f} |")
        else:
            found = at(sub, b, "simple_regret")[s]
            pool_best = {seed: study.make(seed).best_in_pool for seed in found.index}
            hits = sum(abs(best_b[seed] - pool_best[seed]) < 1e-9 for seed in found.index)
            summary[s] = interval(best_a)
            vs = difference(best_a, rand["random"]) if "random" in rand else (np.nan,) * 3
            lines.append(f"| {s} | {fmt(summary[s])} | {fmt(interval(best_b))} | {fmt(vs)} | "
                         f"{hits} of {len(found)} | {len(found)} | {secs:.2f} |")
    return "\n".join(lines), summary


def score(study: Study, df: pd.DataFrame) -> pd.Series:
    """Per (strategy, seed), the study's headline number, higher is better: top-1% rows found
    (tables), minus the best value by the first checkpoint (functions, minimised), accuracy
    (classification)."""
    if study.kind == "classification":
        return df[df.n_observed == study.budget].groupby(["strategy", "seed"]).accuracy.last()
    if study.kind == "table":
        return at(df, study.budget, "top1_found")
    return -at(df, study.checkpoints[0], "best_so_far")


def evidence(studies: list[Study], frames: dict) -> str:
    """Each named alternative minus the default on the seeds both ran, per study."""
    shown = [s for s in studies if s.name in frames]
    names = []
    for study in shown:
        names += [s.name for s in strategies_for(study, False)
                  if s.name not in CORE and s.name not in names]
    lines = ["| alternative | " + " | ".join(s.name for s in shown) + " |",
             "|---|" + "---|" * len(shown)]
    for name in names:
        cells = []
        for study in shown:
            values = score(study, frames[study.name])
            if name not in values or "default" not in values:
                cells.append("")
                continue
            alt = values[name]
            base = values["default"].reindex(alt.index).dropna()
            if len(base) < 2:
                cells.append("")
                continue
            diff = alt.loc[base.index].to_numpy() - base.to_numpy()
            mean, lo, hi = interval(diff)
            sure = len(diff) >= 5  # a verdict needs a few seeds, even when they all agree
            mark = (" (better)" if sure and lo > 0 else " (worse)" if sure and hi < 0
                    else "")
            cells.append(f"{mean:+.3g} [{lo:+.2g}, {hi:+.2g}]{mark}")
        if any(cells):
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(frames: dict) -> list[str]:
    """The issue's targets, read off the results."""
    out = []
    if "hartmann6" in frames and "default" in set(frames["hartmann6"].strategy):
        df = frames["hartmann6"]
        sub = df[df.strategy == "default"]
        best30 = at(sub, 30, "best_so_far")["default"]
        best50 = at(sub, 50, "best_so_far")["default"]
        hits = sum(abs(best50[s] - STUDIES["hartmann6"].make(s).best_in_pool) < 1e-9
                   for s in best50.index)
        out.append(f"- Hartmann6: best by 30 {best30.mean():.3f} (target <= -2.96: "
                   f"{'met' if best30.mean() <= -2.96 else 'not met'}); pool optimum found in "
                   f"{hits} of {len(best50)} seeds by 50 (target: in half the seeds, >= 5 of "
                   f"10: {'met' if 2 * hits >= len(best50) >= 10 else 'not met'}).")
    for name in TABLES:
        if name not in frames:
            continue
        values = score(STUDIES[name], frames[name])
        if "default" not in values:
            continue
        d = values["default"]
        peers = {p: values[p].mean() for p in ("baybe", "baybe-onehot") if p in values}
        vs_random = difference(d, values["random"]) if "random" in values else None
        beat_peer = all(d.mean() >= v for v in peers.values()) if peers else None
        peer_text = ", ".join(f"{p} {v:.2f}" for p, v in peers.items()) or "no BayBE run"
        out.append(
            f"- {name}: default {d.mean():.2f} top-1% rows ({len(d)} seeds) against "
            f"{peer_text}: {'met' if beat_peer else 'not met' if peers else 'not measured'}; "
            f"above random with 95% confidence: "
            f"{'yes' if vs_random and vs_random[1] > 0 else 'no'}.")
    if "digits" in frames:
        acc = score(STUDIES["digits"], frames["digits"])
        if "default" in acc:
            mean = acc["default"].mean()
            out.append(f"- digits: default accuracy at 50 labels {mean:.3f} over "
                       f"{len(acc['default'])} seeds (target >= 0.87: "
                       f"{'met' if mean >= 0.87 else 'not met'}).")
    return out


def page(studies: list[Study], elapsed: float | None) -> str:
    import torch

    parts = [
        "# Benchmarks: decision quality\n",
        "Generated by `python benchmarks/decisions.py`; do not edit by hand. Every row is "
        "the same pools and seeds; intervals are 95% t-intervals over seeds. `default` is "
        "`Campaign(candidates, target, goal=...)` with nothing else set, `random` picks at "
        "random (for classification: the default surrogate, scored after random labels), "
        "`init=`, `incumbent=`, `batch=` (`batch=qlognei`: BoTorch's qLogNEI for every "
        "pick, one at a time on the functions), `prior=` (GP hyper-parameter priors), "
        "`kernel=rbf` (BoTorch's default squared-exponential kernel instead of Matern-5/2), "
        "`encoding=` (a fixed SMILES encoding instead of the default's, which is Mordred "
        "descriptors for reaction components and the leave-one-out likelihood choice for a "
        "library of molecules; `encoding=likelihood`: that choice on every table), "
        "`scaling=domain` (GP inputs scaled by the pool's range, not the measured "
        "candidates'), `fit=converged` (L-BFGS to convergence, not 200 steps) and "
        "`acquisition=` (another criterion with the default surrogate choice) change one "
        "default each (`a+b`: two at once), `botorch` is BoTorch's plain loop (SingleTaskGP, "
        "qLogNEI, `optimize_acqf_discrete`, random initial points; `botorch@default-start`: "
        "from the default campaign's initial points, so that the two differ only in what "
        "they pick next) and `baybe` BayBE's default "
        "campaign (`baybe-onehot`: SMILES as one-hot categories); BayBE's default may "
        "recommend a row it has already measured, and such a repeat counts against its "
        "budget as it would in a lab.\n",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}"
        + (f"; {elapsed / 60:.0f} min for the campaigns this run added (results "
           "accumulate in benchmarks/results across runs)." if elapsed else ".")
        + "\n",
    ]
    frames = {s.name: pd.read_csv(RESULTS / f"{s.name}.csv") for s in studies
              if (RESULTS / f"{s.name}.csv").exists()}
    parts.append("## Targets\n\n" + "\n".join(targets(frames)) + "\n")
    parts.append(
        "## Each alternative against the default\n\nThe named alternative minus the "
        "default on the seeds both ran (paired), with its 95% interval: top-1% rows found "
        "by 30 (tables), how much lower the best value by 30 is (functions), accuracy at 50 "
        "labels (classification). Positive means the alternative did better; (better) or "
        "(worse) when the interval excludes zero.\n\n" + evidence(studies, frames) + "\n")
    failures = RESULTS / "failures.csv"
    if failures.exists():
        failed = pd.read_csv(failures).drop_duplicates(["study", "strategy"], keep="last")
        ran = {(name, s) for name, df in frames.items() for s in set(df.strategy)}
        failed = failed[[(r.study, r.strategy) not in ran for r in failed.itertuples()]]
        parts.append("## Runs that failed\n\n| study | strategy | seeds | error |\n"
                     "|---|---|---|---|\n" + "\n".join(
                         f"| {r.study} | {r.strategy} | {r.seeds} | {r.error} |"
                         for r in failed.itertuples()) + "\n")
    for study in studies:
        if study.name not in frames:
            continue
        df = frames[study.name]
        problem = study.make(0)
        if study.kind == "function":
            what = (f"{problem.description.split(' on ')[0]}, {study.pool_size:,}-candidate "
                    f"Sobol pool per seed, {study.n_initial} initial + "
                    f"{study.budget - study.n_initial} one at a time (minimise; lower is "
                    "better).")
        elif study.kind == "table":
            top = int(problem.top_mask(0.01).sum())
            what = (f"{problem.description}. {len(problem.candidates)} candidates, top 1% = "
                    f"{top} rows; {study.n_initial} initial + batches of {study.batch_size} to "
                    f"{study.budget} experiments ({problem.goal}).")
        else:
            what = (f"{problem.description}; {len(problem.candidates)} candidates, "
                    f"{study.n_initial} initial labels + {study.budget - study.n_initial} one "
                    "at a time; accuracy over the whole pool.")
        table, _ = study_table(study, df)
        parts.append(f"## {study.name}\n\n{what}\n\n{table}\n")
    return "\n".join(parts)


def plot_tables(studies: list[Study], path: Path) -> bool:
    """Top-1% rows found by the end, per table: default, random and the peers (95% CIs)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = ("default", "random", "botorch", "baybe", "baybe-onehot")
    frames = {s.name: pd.read_csv(RESULTS / f"{s.name}.csv") for s in studies
              if s.kind == "table" and (RESULTS / f"{s.name}.csv").exists()}
    if not frames:
        return False
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / len(shown)
    for j, strategy in enumerate(shown):
        for i, (name, df) in enumerate(frames.items()):
            study = STUDIES[name]
            values = at(df[df.strategy == strategy], study.budget, "top1_found")
            if values.empty:
                continue
            mean, lo, hi = interval(values.to_numpy())
            ax.bar(i + (j - len(shown) / 2 + 0.5) * width, mean, width,
                   yerr=[[mean - lo], [hi - mean]], capsize=2, color=f"C{j}",
                   label=strategy if i == 0 else None)
    ax.set_xticks(range(len(frames)), list(frames), rotation=20)
    ax.set_ylabel("top-1% rows found by 30 experiments")
    ax.legend(ncols=len(shown), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--studies", default=",".join(STUDIES))
    parser.add_argument("--strategies", default=None,
                        help="comma-separated names to run (default: all of each study)")
    parser.add_argument("--seeds", type=int, default=None, help="override each study's seeds")
    parser.add_argument("--all-seeds", action="store_true",
                        help="run the named alternatives on every seed, not the first few")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--no-baybe", action="store_true")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--out", default="docs/benchmarks.md")
    parser.add_argument("--results", default=None,
                        help="folder of the per-study result files")
    args = parser.parse_args()
    global RESULTS
    RESULTS = Path(args.results) if args.results else RESULTS
    studies = [STUDIES[s.strip()] for s in args.studies.split(",") if s.strip()]
    only = set(args.strategies.split(",")) if args.strategies else None
    started = time.perf_counter()
    if not args.report_only:
        run(studies, only, args.seeds, args.n_jobs, not args.no_baybe, args.all_seeds)
    text = page(list(STUDIES.values()), None if args.report_only
                else time.perf_counter() - started)
    out = Path(args.out)
    if plot_tables(list(STUDIES.values()), out.parent / "decisions.png"):
        text = text.replace("\n## ", "\n![Top-1% rows found on the real tables, mean and "
                            "95% interval](decisions.png)\n\n## ", 1)
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()


def parallel_runs(one_run, jobs: list[tuple], n_jobs: int) -> list:
    """`one_run(*job)` for every job, in `n_jobs` fresh interpreters (a fork after torch
    has started its thread pool can hang)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(n_jobs, mp_context=context) as pool:
        return list(pool.map(one_run, *zip(*jobs, strict=True)))
