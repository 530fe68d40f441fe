"""The names of the acquisition functions and what each means, readable without loading
the numerical libraries (the command line lists them, and checks a campaign's settings,
without PyTorch).

`MEANINGS` is the one table of names: `designloop.acquisition.ACQUISITIONS` maps the same
names, in the same order, to the functions, whose docstrings open with these meanings.
"""

from __future__ import annotations

from designloop import names

MEANINGS: dict[str, str] = {
    "least_confidence": "Least confidence: 1 - max_y p(y|x) of the mean predictive",
    "margin": "Margin sampling: score = 1 - (p1 - p2), so the smallest margin is queried first",
    "entropy": "Predictive entropy H[p(y|x)] = -sum_y p log p of the mean predictive (nats)",
    "bald": "BALD (mutual information between the next observation and the model), for "
            "either task",
    "vote_entropy": "Query-by-committee vote entropy: -sum_y (V(y)/S) log (V(y)/S), V(y) = "
                    "votes for y",
    "kl_disagreement": "Query-by-committee KL disagreement: (1/S) sum_s KL(p_s || p_mean) "
                       "(nats)",
    "variation_ratio": "Variation ratio: 1 - (votes for the modal class) / S, over committee "
                       "members",
    "max_variance": "Maximum variance (uncertainty sampling): score = epistemic variance "
                    "sigma_f^2(x)",
    "ucb": "Upper confidence bound: s * mean + beta * sd, with s = +1 to maximise, -1 to "
           "minimise",
    "expected_improvement": "Expected improvement E[max(s (f - best_f), 0)] = sd * (phi(u) + "
                            "u Phi(u)), u = s (mean - best_f) / sd, s = +1 to maximise and -1 "
                            "to minimise",
    "log_expected_improvement": "Logarithm of expected improvement, computed stably for very "
                                "negative u (no -inf where EI underflows), so candidates far "
                                "in the tails are still ranked",
    "probability_of_improvement": "Probability of improvement P(s (f - best_f) > 0) = Phi(u), "
                                  "u = s (mean - best_f) / sd",
    "expected_gradient_length": "Expected gradient length: E_{y ~ p(y|x)} ||grad_theta "
                                "loss(x, y)||, averaged over ensemble members",
    "random": "Random: uniform scores in [0, 1) from a seeded generator, the baseline to beat",
}


def canonical(name: str) -> str:
    """The registered name for `name` (snake_case, the command line's kebab-case, or an
    alias of `designloop.names`, e.g. "ei").

    Raises:
        InputError: no acquisition has that name.
    """
    return names.canonical(name, MEANINGS, "acquisition")


def describe(name: str) -> str:
    """One-line meaning of the acquisition `name`."""
    return MEANINGS[canonical(name)]
