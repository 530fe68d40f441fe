"""Label spreading over the pool: the fixed point, where labels reach, and what it buys."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

import designloop as dl
from designloop.campaign.surrogate_choice import choose_classifier
from designloop.surrogates.graph import MAX_GRAPH_WORK, affordable, spread


def test_spread_reaches_the_closed_form_fixed_point():
    # a path graph 0-1-2-3 with node 0 labelled class 0 and node 3 class 1
    w = np.diag(np.ones(3), 1)
    w = w + w.T
    d = 1 / np.sqrt(w.sum(1))
    s = d[:, None] * w * d[None, :]
    seeds = np.zeros((4, 2))
    seeds[0, 0] = seeds[3, 1] = 1
    alpha = 0.9
    exact = (1 - alpha) * np.linalg.solve(np.eye(4) - alpha * s, seeds)
    assert np.allclose(spread(sp.csr_matrix(s), seeds, alpha), exact, atol=1e-8)
    # hand-checked: the nearer label wins and the path is symmetric
    assert exact[1, 0] > exact[1, 1] and np.isclose(exact[1, 0], exact[2, 1])


def two_clusters(n=40, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(0.0, 0.05, size=(n, 2))
    b = rng.normal(1.0, 0.05, size=(n, 2))
    return torch.from_numpy(np.vstack([a, b]))


def test_one_label_per_cluster_labels_the_whole_cluster():
    pool = two_clusters()
    labelled = torch.tensor([3, 45])
    model = dl.LabelSpreading(n_members=1).fit(pool[labelled], [0, 1], domain=pool)
    probs = model.predict(pool).mean_probs
    assert (probs[:40, 0] > 0.98).all() and (probs[40:, 1] > 0.98).all()
    # a row off the pool takes the mean of its nearest pool rows
    far_side = model.predict(torch.tensor([[1.02, 0.98]], dtype=torch.float64)).mean_probs
    assert far_side[0, 1] > 0.98


def test_a_component_no_label_reaches_is_uniform_and_the_committee_disagrees_on_thin_labels():
    pool = two_clusters()
    model = dl.LabelSpreading(n_members=1, n_classes=2).fit(pool[[0, 1]], [0, 1], domain=pool)
    probs = model.predict(pool[40:]).mean_probs
    assert torch.allclose(probs, torch.full_like(probs, 0.5))
    # one label in each cluster: bootstrap members that drop a label leave its cluster
    # unlabelled or taken by the other class, so the members disagree
    bag = dl.LabelSpreading(n_members=20, seed=0).fit(pool[[3, 45]], [0, 1], domain=pool)
    assert bag.predict(pool).probs.shape == (20, 80, 2)
    assert dl.ACQUISITIONS["bald"](bag.predict(pool)).min() > 0.05


def test_labelled_rows_outside_the_pool_join_the_graph():
    pool = two_clusters()
    outside = torch.tensor([[0.01, 0.0], [0.99, 1.01]], dtype=torch.float64)
    model = dl.LabelSpreading(n_members=1).fit(outside, [1, 0], domain=pool)
    assert model.n_nodes_ == 82
    probs = model.predict(pool).mean_probs
    assert (probs[:40, 1] > 0.98).all() and (probs[40:, 0] > 0.98).all()


def test_identical_pool_rows_are_one_node_and_the_graph_outlives_changes_to_the_pool():
    pool = two_clusters()
    doubled = torch.cat([pool, pool[:40]])  # the first cluster twice
    model = dl.LabelSpreading(n_members=1).fit(pool[[3, 45]], [0, 1], domain=doubled)
    assert model.n_nodes_ == 80
    probs = model.predict(doubled).mean_probs
    assert torch.equal(probs[:40], probs[80:]) and (probs[:40, 0] > 0.98).all()
    # the cached graph was built on a copy: changing the caller's array leaves it intact
    copy = pool.clone()
    dl.LabelSpreading(n_members=1).fit(copy[[3, 45]], [0, 1], domain=copy)
    copy[:40] += 5.0
    again = dl.LabelSpreading(n_members=1).fit(pool[[3, 45]], [0, 1], domain=pool)
    assert (again.predict(pool).mean_probs[:40, 0] > 0.98).all()


def test_a_bootstrap_committee_hands_the_pool_to_its_members():
    pool = two_clusters()
    bag = dl.BootstrapCommittee(base="label_spreading", n_members=3,
                                base_params={"n_members": 1})
    bag.fit(pool[[3, 4, 45, 46]], [0, 0, 1, 1], domain=pool)
    assert all(member.n_nodes_ == 80 for member in bag.members_)
    probs = bag.predict(pool).mean_probs
    assert (probs[:40, 0] > 0.98).all() and (probs[40:, 1] > 0.98).all()


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    data = load_digits()
    return torch.as_tensor(data.data / 16.0), torch.as_tensor(data.target)


def test_fifty_labels_of_digits_give_0_89_accuracy_against_0_76_for_a_forest(digits):
    X, y = digits
    labelled = torch.from_numpy(np.random.default_rng(0).choice(len(y), 50, replace=False))
    spreading = dl.LabelSpreading().fit(X[labelled], y[labelled], domain=X)
    forest = dl.RandomForest(task="classification").fit(X[labelled], y[labelled])

    def accuracy(model):
        return float((model.predict(X).mean_probs.argmax(1) == y).double().mean())

    assert accuracy(spreading) >= 0.88
    assert accuracy(forest) <= 0.8


def test_the_choice_compares_label_spreading_only_with_the_pool_at_hand(digits, monkeypatch):
    import designloop.campaign.surrogate_choice as choice

    monkeypatch.setattr(choice, "CLASSIFIERS", ("forest",))  # the slower models add nothing
    X, y = digits
    labelled = torch.from_numpy(np.random.default_rng(1).choice(len(y), 40, replace=False))
    name, why = choose_classifier(X[labelled], y[labelled], 10, 40, seed=0, domain=X)
    assert name == "label_spreading"
    brier = why["surrogate_choice"]["brier"]
    assert brier["label_spreading"] < brier["forest"] - 0.1
    _, blind = choose_classifier(X[labelled], y[labelled], 10, 40, seed=0)
    assert "label_spreading" not in blind["surrogate_choice"]["brier"]
    assert affordable(20_000, 50) and not affordable(20_000, 51)
    assert not affordable(int((MAX_GRAPH_WORK / X.shape[1]) ** 0.5) + 1, X.shape[1])
    big = torch.zeros(int((MAX_GRAPH_WORK / X.shape[1]) ** 0.5) + 1, X.shape[1],
                      dtype=torch.float64)
    _, too_big = choose_classifier(X[labelled], y[labelled], 10, 40, seed=0, domain=big)
    assert "label_spreading" not in too_big["surrogate_choice"]["brier"]
