"""What designloop knows about each acquisition function, surrogate and batch selection, in
one place.

Every fact that more than one part of the package needs lives here once: which task an
acquisition serves, whether it needs a committee, a goal or an incumbent, whether its score
can only fall as the variance does (which lets a batch be picked lazily), the batch rule it
gets by default; which surrogates do which task, which are exact GPs, which give a
committee. The configuration checks, the acquisitions' own input checks, the batch
dispatch, the command line's listings and help, and the docs tables all read these specs,
so adding an acquisition means writing its function (in `designloop.acquisition`) and one
spec here.

The module imports no numerical library: a stored campaign is checked, and the command
line lists its choices, without loading PyTorch.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from designloop import names

REGRESSION = "regression"
CLASSIFICATION = "classification"
TASKS = (REGRESSION, CLASSIFICATION)
BOTH = TASKS


@dataclass(frozen=True)
class AcquisitionSpec:
    """One acquisition function.

    Attributes:
        name: registered name; the function of that name in `designloop.acquisition`.
        meaning: one line, which the function's docstring opens with (the command line's
            `designloop acquisitions` lists it).
        score: the formula, for the docs' table.
        intuition: when it scores high, for the docs' table.
        tasks: the tasks whose predictions it scores.
        min_members: committee members (or posterior draws) it needs.
        optimises: needs a goal to maximise or minimise (not for exploring).
        incumbent: reads `best_f`, the best value so far.
        shrinks_with_variance: at a fixed mean its score never rises when the epistemic
            variance falls, so a greedy batch can leave most of a pool unscored.
        variance_only: reads the variance alone (screening needs no posterior mean).
        gradients: needs a neural surrogate's per-example gradients.
        log_scale: its scores are logarithms (of expected improvement).
        signed: its scores can be negative (every other one's are >= 0 or logarithms).
    """

    name: str
    meaning: str
    score: str
    intuition: str
    tasks: tuple[str, ...]
    min_members: int = 1
    optimises: bool = False
    incumbent: bool = False
    shrinks_with_variance: bool = False
    variance_only: bool = False
    gradients: bool = False
    log_scale: bool = False
    signed: bool = False


@dataclass(frozen=True)
class SurrogateSpec:
    """One surrogate model.

    Attributes:
        name: registered name (`make_surrogate(name)`).
        cls: the class, as "module:Class" (imported when needed).
        tasks: the tasks it does.
        summary: one line for the command line's help.
        exact_gp: an exact Gaussian process (batches by conditioning its posterior, BoTorch's
            q-acquisitions, leave-one-out diagnostics in closed form).
        committee: its predictions carry several members or posterior draws.
        takes_task: its constructor takes `task` (it does either task).
        gradients: a neural network whose per-example gradients can be scored.
    """

    name: str
    cls: str
    tasks: tuple[str, ...]
    summary: str
    exact_gp: bool = False
    committee: bool = False
    takes_task: bool = False
    gradients: bool = False

    def resolve(self) -> type:
        """The class (imports its module)."""
        module, name = self.cls.split(":")
        return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class SelectionSpec:
    """One batch selection method.

    Attributes:
        name: registered name (`selection=`).
        summary: one line for the docs and help.
        exact_gp: it conditions or samples an exact GP.
    """

    name: str
    summary: str
    exact_gp: bool = False


_IMPROVE = dict(tasks=(REGRESSION,), optimises=True, incumbent=True)

ACQUISITION_SPECS: tuple[AcquisitionSpec, ...] = (
    AcquisitionSpec(
        "least_confidence", "Least confidence: 1 - max_y p(y|x) of the mean predictive",
        "1 - max_y p(y\\|x)", "the most probable class is not very probable",
        (CLASSIFICATION,)),
    AcquisitionSpec(
        "margin",
        "Margin sampling: score = 1 - (p1 - p2), so the smallest margin is queried first",
        "1 - (p_1 - p_2), the two most probable classes",
        "the model hesitates between two classes", (CLASSIFICATION,)),
    AcquisitionSpec(
        "entropy", "Predictive entropy H[p(y|x)] = -sum_y p log p of the mean predictive (nats)",
        "- sum_y p(y\\|x) log p(y\\|x)", "the whole class distribution is flat",
        (CLASSIFICATION,)),
    AcquisitionSpec(
        "bald",
        "BALD (mutual information between the next observation and the model), for either "
        "task",
        "H[p(y\\|x)] - mean_s H[p_s(y\\|x)]; regression: 0.5 log(1 + sigma_f^2 / sigma_n^2)",
        "members are individually sure but disagree: the answer would teach the model",
        BOTH, shrinks_with_variance=True, variance_only=True),
    AcquisitionSpec(
        "vote_entropy",
        "Query-by-committee vote entropy: -sum_y (V(y)/S) log (V(y)/S), V(y) = votes for y",
        "entropy of the members' votes", "query by committee: the committee is split",
        (CLASSIFICATION,), min_members=2),
    AcquisitionSpec(
        "kl_disagreement",
        "Query-by-committee KL disagreement: (1/S) sum_s KL(p_s || p_mean) (nats)",
        "mean_s KL(p_s \\|\\| p)", "query by committee with soft votes", (CLASSIFICATION,),
        min_members=2),
    AcquisitionSpec(
        "variation_ratio",
        "Variation ratio: 1 - (votes for the modal class) / S, over committee members",
        "1 - share of the modal vote", "how much of the committee is outvoted",
        (CLASSIFICATION,), min_members=2),
    AcquisitionSpec(
        "max_variance",
        "Maximum variance (uncertainty sampling): score = epistemic variance sigma_f^2(x)",
        "sigma_f^2(x)", "where the regression model knows least", (REGRESSION,),
        shrinks_with_variance=True, variance_only=True),
    AcquisitionSpec(
        "ucb",
        "Upper confidence bound: s * mean + beta * sd, with s = +1 to maximise, -1 to minimise",
        "s mu(x) + beta sigma(x)", "optimism under uncertainty, beta sets the exploration",
        (REGRESSION,), optimises=True, shrinks_with_variance=True, signed=True),
    AcquisitionSpec(
        "expected_improvement",
        "Expected improvement E[max(s (f - best_f), 0)] = sd * (phi(u) + u Phi(u)), u = s "
        "(mean - best_f) / sd, s = +1 to maximise and -1 to minimise",
        "sigma (phi(u) + u Phi(u))", "expected gain over the best so far",
        shrinks_with_variance=True, **_IMPROVE),
    AcquisitionSpec(
        "log_expected_improvement",
        "Logarithm of expected improvement, computed stably for very negative u (no -inf "
        "where EI underflows), so candidates far in the tails are still ranked",
        "log of EI, computed stably",
        "EI that still ranks far from the incumbent (the default for optimisation)",
        shrinks_with_variance=True, log_scale=True, **_IMPROVE),
    AcquisitionSpec(
        "probability_of_improvement",
        "Probability of improvement P(s (f - best_f) > 0) = Phi(u), u = s (mean - best_f) / sd",
        "Phi(u)", "chance of beating the best so far", **_IMPROVE),
    AcquisitionSpec(
        "expected_gradient_length",
        "Expected gradient length: E_{y ~ p(y|x)} ||grad_theta loss(x, y)||, averaged over "
        "ensemble members",
        "E_y \\|\\| grad_theta loss(x, y) \\|\\| under the predictive",
        "how much the model would change (expected model change)", BOTH, gradients=True),
    AcquisitionSpec(
        "random", "Random: uniform scores in [0, 1) from a seeded generator, the baseline to beat",
        "seeded uniform", "the baseline every study needs", BOTH),
)

SURROGATE_SPECS: tuple[SurrogateSpec, ...] = (
    SurrogateSpec("gp", "designloop.surrogates.gp:GPRegressor", (REGRESSION,),
                  "exact Gaussian process (BoTorch), the regression default", exact_gp=True),
    SurrogateSpec("gp_classifier", "designloop.surrogates.gp_classifier:GPClassifier",
                  (CLASSIFICATION,), "Dirichlet-based GP classifier", committee=True),
    SurrogateSpec("ensemble", "designloop.surrogates.ensemble:DeepEnsemble", BOTH,
                  "deep ensemble of small networks", committee=True, takes_task=True,
                  gradients=True),
    SurrogateSpec("mc_dropout", "designloop.surrogates.ensemble:MCDropout", BOTH,
                  "network with Monte-Carlo dropout", committee=True, takes_task=True,
                  gradients=True),
    SurrogateSpec("forest", "designloop.surrogates.forest:RandomForest", BOTH,
                  "random forest (trees as a committee)", committee=True, takes_task=True),
    SurrogateSpec("bootstrap", "designloop.surrogates.committee:BootstrapCommittee", BOTH,
                  "any surrogate refitted on bootstrap resamples", committee=True,
                  takes_task=True),
    SurrogateSpec("label_spreading", "designloop.surrogates.graph:LabelSpreading",
                  (CLASSIFICATION,), "labels spread over a neighbour graph of the pool",
                  committee=True),
)
# "auto": a classification campaign's surrogate chosen by cross-validation each few cycles
AUTO_SURROGATE = "auto"
# the exact GP's hyper-parameter priors (`surrogate_params={"prior": ...}`)
GP_PRIORS = ("dim_scaled", "gamma")

SELECTION_SPECS: tuple[SelectionSpec, ...] = (
    SelectionSpec("auto", "the best rule the surrogate and acquisition allow (below)"),
    SelectionSpec("top_k", "the k best scores"),
    SelectionSpec("greedy", "pick, condition the GP on the pick, rescore, repeat",
                  exact_gp=True),
    SelectionSpec("kriging_believer", "pick, refit on the predicted outcome, repeat"),
    SelectionSpec("qlognei", "BoTorch's q log noisy expected improvement over the pool",
                  exact_gp=True),
    SelectionSpec("qucb", "BoTorch's q upper confidence bound over the pool", exact_gp=True),
    SelectionSpec("batch_bald", "BatchBALD: joint mutual information of the batch"),
    SelectionSpec("diverse", "the best scores spread out by k-centre selection"),
    SelectionSpec("density", "scores weighted by how representative a candidate is"),
)
KRIGING_BELIEVER_MAX_K = 8  # larger batches of a refitted surrogate: "diverse"

ACQUISITIONS = {spec.name: spec for spec in ACQUISITION_SPECS}
SURROGATES = {spec.name: spec for spec in SURROGATE_SPECS}
SELECTIONS = {spec.name: spec for spec in SELECTION_SPECS}
MEANINGS = {spec.name: spec.meaning for spec in ACQUISITION_SPECS}


def acquisition(name: str) -> AcquisitionSpec | None:
    """The spec of a registered acquisition (None for one of the user's own)."""
    return ACQUISITIONS.get(name)


def acquisitions_for(task: str, **flags) -> list[str]:
    """Names of the acquisitions for `task` whose spec has the given flags, in order, e.g.
    `acquisitions_for("regression", optimises=True)`."""
    return [s.name for s in ACQUISITION_SPECS if task in s.tasks
            and all(getattr(s, key) == value for key, value in flags.items())]


def surrogates_for(task: str, **flags) -> list[str]:
    """Names of the surrogates for `task` whose spec has the given flags, in order."""
    return [s.name for s in SURROGATE_SPECS if task in s.tasks
            and all(getattr(s, key) == value for key, value in flags.items())]


def quoted(names, last: str = "or") -> str:
    """"'a', 'b' or 'c'", for messages."""
    names = [f"'{n}'" for n in names]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {last} {names[-1]}"


def surrogate_spec(model) -> SurrogateSpec | None:
    """The spec of a surrogate object's registered class or a subclass of it (None for a
    surrogate of the user's own making). Imports the classes, so only for code that holds a
    fitted model anyway."""
    for spec in SURROGATE_SPECS:
        if isinstance(model, spec.resolve()):
            return spec
    return None


def is_exact_gp(model) -> bool:
    """Whether `model` is an exact GP (see SurrogateSpec.exact_gp)."""
    spec = surrogate_spec(model)
    return spec is not None and spec.exact_gp


def exact_gp_named(surrogate: str) -> bool:
    """Whether the surrogate registered as `surrogate` is an exact GP (False for "auto" and
    the user's own)."""
    spec = SURROGATES.get(surrogate)
    return spec is not None and spec.exact_gp


def default_selection(acquisition_name: str, model, classification: bool, n_members: int,
                      k: int) -> str:
    """The batch rule of `selection="auto"`: top-k for one pick; for an exact GP, greedy
    conditioning of its posterior; for class probabilities, BatchBALD with BALD over a
    committee and otherwise the best scores spread out ("diverse"); for other regression
    surrogates, the kriging believer up to KRIGING_BELIEVER_MAX_K picks, "diverse" above."""
    if k == 1:
        return "top_k"
    if is_exact_gp(model):
        return "greedy"
    if classification:
        return "batch_bald" if acquisition_name == "bald" and n_members >= 2 else "diverse"
    return "kriging_believer" if k <= KRIGING_BELIEVER_MAX_K else "diverse"


def canonical_acquisition(name: str) -> str:
    """The registered name for `name` (snake_case, the command line's kebab-case, or an
    alias of `designloop.names`, e.g. "ei").

    Raises:
        InputError: no acquisition has that name.
    """
    return names.canonical(name, MEANINGS, "acquisition")


def describe(name: str) -> str:
    """One-line meaning of the acquisition `name`."""
    return MEANINGS[canonical_acquisition(name)]


def acquisitions_table() -> str:
    """The docs' table of acquisition functions (name, score, intuition), as Markdown."""
    rows = ["| name | score | intuition |", "|---|---|---|"]
    rows += [f"| `{s.name}` | {s.score} | {s.intuition} |" for s in ACQUISITION_SPECS]
    return "\n".join(rows)
