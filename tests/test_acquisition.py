import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

import designloop as dl
from designloop.acquisition import raw_margin

A = dl.ACQUISITIONS
CLASSIFICATION = ["least_confidence", "margin", "entropy", "bald", "vote_entropy",
                  "kl_disagreement", "variation_ratio"]
REGRESSION = ["max_variance", "bald", "ucb", "expected_improvement",
              "log_expected_improvement", "probability_of_improvement"]


def cls(probs):
    return dl.ClassificationPrediction(torch.tensor(probs, dtype=torch.float64))


def reg(mean, var, noise=1.0, samples=None):
    return dl.RegressionPrediction(torch.tensor(mean, dtype=torch.float64),
                                   torch.tensor(var, dtype=torch.float64), noise, samples)


# ---------------------------------------------------------------- worked examples
def test_least_confidence_worked_example():
    assert A["least_confidence"](cls([[[0.5, 0.3, 0.2]]])).item() == pytest.approx(0.5)


def test_margin_worked_example():
    pred = cls([[[0.5, 0.45, 0.05], [0.9, 0.05, 0.05]]])
    assert raw_margin(pred).tolist() == pytest.approx([0.05, 0.85])
    scores = A["margin"](pred)
    assert scores.tolist() == pytest.approx([0.95, 0.15])
    assert scores.argmax().item() == 0  # the smaller margin is queried first


def test_entropy_maximum_is_log_c():
    pred = cls([[[1 / 3, 1 / 3, 1 / 3], [1.0, 0.0, 0.0]]])
    assert A["entropy"](pred).tolist() == pytest.approx([math.log(3), 0.0])
    assert math.log(3) == pytest.approx(1.0986, abs=1e-4)


def test_bald_zero_when_members_agree_and_entropy_when_confident_members_disagree():
    agree = cls([[[0.6, 0.4]], [[0.6, 0.4]], [[0.6, 0.4]]])
    assert A["bald"](agree).item() == pytest.approx(0.0, abs=1e-12)
    c = 4
    disagree = cls([[[1.0 if j == s else 0.0 for j in range(c)]] for s in range(c)])
    assert A["bald"](disagree).item() == pytest.approx(math.log(c))
    assert A["bald"](disagree).item() == pytest.approx(A["entropy"](disagree).item())


def test_vote_entropy_of_a_two_two_split_is_log_2():
    pred = cls([[[0.9, 0.1]], [[0.8, 0.2]], [[0.3, 0.7]], [[0.4, 0.6]]])
    assert A["vote_entropy"](pred).item() == pytest.approx(math.log(2))
    assert A["variation_ratio"](pred).item() == pytest.approx(0.5)


def test_vote_entropy_zero_for_unanimous_committee():
    pred = cls([[[0.9, 0.1]], [[0.6, 0.4]], [[0.51, 0.49]]])
    assert A["vote_entropy"](pred).item() == pytest.approx(0.0)
    assert A["variation_ratio"](pred).item() == pytest.approx(0.0)


def test_kl_disagreement_hand_computed():
    # members [1, 0] and [0.5, 0.5]; consensus [0.75, 0.25]
    pred = cls([[[1.0, 0.0]], [[0.5, 0.5]]])
    kl1 = math.log(1 / 0.75)
    kl2 = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)
    assert A["kl_disagreement"](pred).item() == pytest.approx((kl1 + kl2) / 2)


def test_max_variance_and_ucb_hand_computed():
    pred = reg([1.0, 0.0], [4.0, 1.0])
    assert A["max_variance"](pred).tolist() == [4.0, 1.0]
    assert A["ucb"](pred, beta=2.0).tolist() == pytest.approx([5.0, 2.0])
    assert A["ucb"](pred, beta=2.0, goal="minimize").tolist() == pytest.approx([3.0, 2.0])


def test_gaussian_bald_is_half_log_one_plus_snr():
    pred = reg([0.0, 0.0, 0.0], [3.0, 0.0, 1.0], noise=torch.tensor([1.0, 1.0, 0.25]))
    assert A["bald"](pred).tolist() == pytest.approx([math.log(2), 0.0, 0.5 * math.log(5)])


def test_gaussian_bald_finite_with_zero_noise():
    assert torch.isfinite(A["bald"](reg([0.0, 1.0], [1.0, 0.0], noise=0.0))).all()


def test_mixture_bald_limits():
    # members that agree carry no information
    same = reg([0.0], [0.0], noise=1.0, samples=torch.zeros(5, 1, dtype=torch.float64))
    assert A["bald"](same).item() == pytest.approx(0.0, abs=1e-9)
    # two members far apart: the observation tells which one is right, log 2 nats
    apart = reg([0.0], [1e4], noise=1.0, samples=torch.tensor([[-100.0], [100.0]]))
    assert A["bald"](apart).item() == pytest.approx(math.log(2), abs=1e-6)


def test_expected_improvement_matches_closed_form():
    mean, sd, best = np.array([0.0, 1.0, -2.0, 3.0]), np.array([1.0, 0.5, 2.0, 0.1]), 0.5
    u = (mean - best) / sd
    expected = sd * (stats.norm.pdf(u) + u * stats.norm.cdf(u))
    pred = reg(mean.tolist(), (sd**2).tolist())
    got = A["expected_improvement"](pred, best_f=best)
    assert got.numpy() == pytest.approx(expected, rel=1e-10)
    assert A["expected_improvement"](reg([0.0], [1.0]), best_f=0.0).item() == pytest.approx(
        1 / math.sqrt(2 * math.pi)
    )
    logei = A["log_expected_improvement"](pred, best_f=best)
    assert logei.numpy() == pytest.approx(np.log(expected), rel=1e-8)
    pi = A["probability_of_improvement"](pred, best_f=best)
    assert pi.numpy() == pytest.approx(stats.norm.cdf(u), rel=1e-10)


def test_ei_closed_forms_are_exact_over_the_whole_range():
    import mpmath

    from designloop.acquisition.regression import ei_closed_form, log_ei_closed_form

    u = torch.cat([-torch.logspace(-3, 100, 400, dtype=torch.float64), torch.zeros(1),
                   torch.logspace(-3, 100, 400, dtype=torch.float64)])
    def log_ei(x):  # log(phi(x) + x Phi(x)), with digits to spare for the cancellation
        if x < -1e20:  # log phi(x) - 2 log|x| + O(x^-2): exact in double precision
            return -0.5 * x * x - 0.5 * math.log(2 * math.pi) - 2 * math.log(-x)
        with mpmath.workdps(40 + 2 * max(0, int(math.log10(abs(x) + 1)))):
            x = mpmath.mpf(x)
            return float(mpmath.log(mpmath.npdf(x) + x * mpmath.ncdf(x)))

    reference = torch.tensor([log_ei(x) for x in u.tolist()], dtype=torch.float64)
    got = log_ei_closed_form(u)
    assert torch.isfinite(got).all()
    assert torch.allclose(got, reference, rtol=1e-12, atol=1e-12)
    moderate = u[(u > -10) & (u < 30)]  # plain EI loses digits to cancellation below
    assert torch.allclose(ei_closed_form(moderate), torch.tensor(
        [math.exp(log_ei(x)) for x in moderate.tolist()],
        dtype=torch.float64), rtol=1e-9, atol=0)
    with pytest.raises(TypeError, match="float32 or float64"):
        log_ei_closed_form(torch.zeros(2, dtype=torch.float16))


def test_ei_closed_forms_give_botorchs_numbers():
    """Same numbers as BoTorch's helpers while it still has them (private names: skipped
    once they are gone)."""
    analytic = pytest.importorskip("botorch.acquisition.analytic")
    if not hasattr(analytic, "_log_ei_helper") or not hasattr(analytic, "_ei_helper"):
        pytest.skip("this BoTorch has no _ei_helper/_log_ei_helper to compare with")
    from designloop.acquisition.regression import ei_closed_form, log_ei_closed_form

    for dtype in (torch.float64, torch.float32):
        u = torch.cat([-torch.logspace(-3, 15, 300, dtype=dtype), torch.zeros(1, dtype=dtype),
                       torch.linspace(-50, 50, 301, dtype=dtype)])
        assert torch.equal(log_ei_closed_form(u), analytic._log_ei_helper(u))
        # the same numbers, except that rounding dust below zero far under the incumbent
        # is returned as 0
        assert torch.equal(ei_closed_form(u), analytic._ei_helper(u).clamp_min(0.0))


def test_improvement_minimize_mirrors_maximize():
    pred = reg([1.0, 2.0, 3.0], [1.0, 1.0, 1.0])
    flipped = reg([-1.0, -2.0, -3.0], [1.0, 1.0, 1.0])
    for name in ["expected_improvement", "log_expected_improvement", "probability_of_improvement"]:
        a = A[name](pred, best_f=2.0, goal="minimize")
        b = A[name](flipped, best_f=-2.0, goal="maximize")
        assert torch.allclose(a, b)
        assert a.argmax().item() == 0


def test_log_ei_is_finite_and_ranked_far_in_the_tail():
    pred = reg([-40.0, -60.0, -1000.0], [1.0, 1.0, 1.0])
    ei = A["expected_improvement"](pred, best_f=0.0)
    assert ei[2].item() == 0.0  # plain EI underflows
    logei = A["log_expected_improvement"](pred, best_f=0.0)
    assert torch.isfinite(logei).all()
    assert logei[0] > logei[1] > logei[2]
    # asymptotics: EI ~ phi(u) / u^2 for u -> -inf
    u = -40.0
    assert logei[0].item() == pytest.approx(stats.norm.logpdf(u) - 2 * math.log(-u), abs=5e-3)


def test_random_is_seeded():
    pred = reg([0.0] * 10, [1.0] * 10)
    a = A["random"](pred, rng=np.random.default_rng(3))
    b = A["random"](pred, rng=3)
    assert torch.equal(a, b)
    assert not torch.equal(a, A["random"](pred, rng=4))
    with pytest.raises(dl.AcquisitionError, match="rng"):
        A["random"](pred)


# ---------------------------------------------------------------- clear errors
@pytest.mark.parametrize("name", [n for n in REGRESSION if n != "bald"])
def test_regression_acquisitions_refuse_class_probabilities(name):
    with pytest.raises(dl.AcquisitionError, match="'gp'"):
        A[name](cls([[[0.5, 0.5]]]), best_f=0.0)


@pytest.mark.parametrize("name", [n for n in CLASSIFICATION if n != "bald"])
def test_classification_acquisitions_refuse_regression(name):
    with pytest.raises(dl.AcquisitionError, match="gp_classifier"):
        A[name](reg([0.0], [1.0]))


@pytest.mark.parametrize("name", ["vote_entropy", "kl_disagreement", "variation_ratio"])
def test_committee_acquisitions_need_members(name):
    with pytest.raises(dl.AcquisitionError, match="committee"):
        A[name](cls([[[0.5, 0.5]]]))


def test_improvement_needs_best_f_and_goal():
    with pytest.raises(dl.AcquisitionError, match="best_f"):
        A["expected_improvement"](reg([0.0], [1.0]))
    with pytest.raises(dl.AcquisitionError, match="maximize"):
        A["expected_improvement"](reg([0.0], [1.0]), best_f=0.0, goal="explore")


def test_get_acquisition_accepts_kebab_case_and_lists_names():
    assert dl.get_acquisition("max-variance") is A["max_variance"]
    with pytest.raises(dl.InputError, match="least_confidence"):
        dl.get_acquisition("nope")


def test_every_acquisition_is_documented_with_a_reference_and_shapes():
    for name, fn in A.items():
        doc = fn.__doc__ or ""
        assert "Returns" in doc and "(N,)" in doc, name
        if name != "random":
            assert "Reference" in doc, name


@pytest.mark.parametrize("c", [2, 3, 1000])
@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_empty_pool_and_many_classes(name, c):
    empty = dl.ClassificationPrediction(torch.zeros(3, 0, c))
    assert A[name](empty).shape == (0,)
    gen = torch.Generator().manual_seed(0)
    probs = torch.softmax(torch.randn(3, 7, c, generator=gen, dtype=torch.float64), -1)
    out = A[name](dl.ClassificationPrediction(probs))
    assert out.dtype == torch.float64 and out.shape == (7,) and torch.isfinite(out).all()


@pytest.mark.parametrize("name", REGRESSION + ["random"])
def test_regression_empty_pool(name):
    empty = dl.RegressionPrediction(torch.zeros(0), torch.zeros(0), 1.0, torch.zeros(4, 0))
    out = A[name](empty, best_f=0.0, rng=0)
    assert out.shape == (0,) and out.dtype == torch.float64


# ---------------------------------------------------------------- properties
def probs_strategy(max_s=5, max_n=4, max_c=6):
    return st.tuples(
        st.integers(1, max_s), st.integers(1, max_n), st.integers(2, max_c)
    ).flatmap(
        lambda shape: arrays(
            np.float64,
            shape,
            elements=st.one_of(st.just(0.0), st.floats(1e-6, 1.0)),
        ).map(_normalise)
    )


def _normalise(a):
    a = a.copy()
    a[..., 0] += (a.sum(-1) == 0)  # an all-zero row becomes one-hot
    return torch.from_numpy(a / a.sum(-1, keepdims=True))


@settings(max_examples=150, deadline=None)
@given(probs_strategy(), st.randoms(use_true_random=False))
def test_scores_invariant_to_class_permutation(probs, rnd):
    perm = list(range(probs.shape[-1]))
    rnd.shuffle(perm)
    a, b = dl.ClassificationPrediction(probs), dl.ClassificationPrediction(probs[..., perm])
    names = CLASSIFICATION if probs.shape[0] >= 2 else CLASSIFICATION[:4]
    for name in names:
        assert torch.allclose(A[name](a), A[name](b), atol=1e-12), name


@settings(max_examples=150, deadline=None)
@given(probs_strategy())
def test_classification_score_bounds(probs):
    pred = dl.ClassificationPrediction(probs)
    c = pred.n_classes
    h = A["entropy"](pred)
    bald = A["bald"](pred)
    lc = A["least_confidence"](pred)
    assert (h >= 0).all() and (h <= math.log(c) + 1e-12).all()
    assert (bald >= 0).all() and (bald <= h + 1e-12).all()
    assert (lc >= 0).all() and (lc <= 1 - 1 / c + 1e-12).all()
    assert ((A["margin"](pred) >= 0) & (A["margin"](pred) <= 1 + 1e-12)).all()
    if pred.n_members >= 2:
        assert torch.allclose(A["kl_disagreement"](pred), bald, atol=1e-10)
        ve = A["vote_entropy"](pred)
        assert (ve >= 0).all() and (ve <= math.log(c) + 1e-12).all()
        vr = A["variation_ratio"](pred)
        assert (vr >= 0).all() and (vr <= 1 - 1 / c + 1e-12).all()
    for name in CLASSIFICATION if pred.n_members >= 2 else CLASSIFICATION[:4]:
        assert torch.isfinite(A[name](pred)).all()


@settings(max_examples=100, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(2, 8), st.integers(1, 5)),
           elements=st.floats(-1e3, 1e3)),
    st.floats(1e-3, 1e3),
)
def test_mixture_bald_between_zero_and_gaussian_bound(samples, noise):
    s = torch.from_numpy(samples)
    var = s.var(0, unbiased=False)
    pred = dl.RegressionPrediction(s.mean(0), var, noise, samples=s)
    mi = A["bald"](pred)
    bound = 0.5 * torch.log1p(var / noise)
    assert torch.isfinite(mi).all()
    assert (mi >= 0).all() and (mi <= bound + 1e-6).all()


def test_expected_improvement_far_below_the_incumbent_is_zero_not_negative():
    # 38 standard deviations below: phi(u) and u Phi(u) cancel to rounding dust
    pred = dl.RegressionPrediction(torch.tensor([-503573.0, -469106.0]),
                                   torch.tensor([808704.0, 1.0]), 1e-3)
    ei = A["expected_improvement"](pred, best_f=-469106.0)
    # at the incumbent EI is sd phi(0), with the epistemic sd (1 here)
    assert ei[0].item() == 0.0 and ei[1].item() == pytest.approx(1 / math.sqrt(2 * math.pi), rel=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    arrays(np.float64, 5, elements=st.floats(-1e6, 1e6)),
    arrays(np.float64, 5, elements=st.floats(0, 1e6)),
    st.floats(-1e6, 1e6),
)
def test_regression_scores_finite(mean, var, best):
    pred = dl.RegressionPrediction(mean, var, 1e-3)
    for name in REGRESSION:
        out = A[name](pred, best_f=best)
        assert torch.isfinite(out).all(), name
    assert (A["expected_improvement"](pred, best_f=best) >= 0).all()


@pytest.mark.parametrize("factor", [1e-12, 1e12])
def test_improvement_scores_scale_with_the_target(factor):
    mean = torch.tensor([0.2, 0.5, 0.9, 1.0], dtype=torch.float64)
    var = torch.tensor([0.04, 1e-6, 1e-4, 0.0], dtype=torch.float64)

    def scores(c):
        pred = dl.RegressionPrediction(mean * c, var * c**2, torch.tensor(0.0))
        return {name: dl.ACQUISITIONS[name](pred, best_f=0.95 * c, goal="maximize")
                for name in ("expected_improvement", "log_expected_improvement",
                             "probability_of_improvement")}

    unit, scaled = scores(1.0), scores(factor)
    np.testing.assert_allclose(scaled["expected_improvement"] / factor,
                               unit["expected_improvement"], rtol=1e-9)
    np.testing.assert_allclose(scaled["log_expected_improvement"] - math.log(factor),
                               unit["log_expected_improvement"], rtol=1e-9)
    np.testing.assert_allclose(scaled["probability_of_improvement"],
                               unit["probability_of_improvement"], rtol=1e-9)
