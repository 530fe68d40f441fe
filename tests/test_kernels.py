import numpy as np
import pytest
import torch

from designloop.surrogates.kernels import MinMaxKernel, TanimotoKernel


def fingerprints(n=40, d=64, seed=0, counts=False):
    gen = np.random.default_rng(seed)
    fp = gen.poisson(0.6, size=(n, d)) if counts else (gen.uniform(size=(n, d)) < 0.2)
    return torch.from_numpy(fp.astype(np.float64))


def test_tanimoto_hand_computed():
    a = torch.tensor([[1.0, 1.0, 0.0, 1.0, 0.0]])
    b = torch.tensor([[1.0, 0.0, 1.0, 1.0, 0.0]])
    # |a AND b| = 2, |a OR b| = 4
    assert TanimotoKernel()(a, b).to_dense().item() == pytest.approx(0.5)
    assert MinMaxKernel()(a, b).to_dense().item() == pytest.approx(0.5)
    fp = fingerprints()
    K = TanimotoKernel()(fp, fp).to_dense()
    inter = fp @ fp.T
    union = fp.sum(1)[:, None] + fp.sum(1)[None, :] - inter
    assert torch.allclose(K, inter / union)


@pytest.mark.parametrize("kernel, counts", [(TanimotoKernel, False), (MinMaxKernel, True),
                                            (MinMaxKernel, False)])
def test_fingerprint_kernel_properties(kernel, counts):
    fp = fingerprints(counts=counts)
    K = kernel()(fp, fp).to_dense()
    assert torch.allclose(K.diagonal(), torch.ones(40, dtype=torch.float64))
    assert torch.allclose(K, K.T)
    assert torch.linalg.eigvalsh(K).min() > -1e-10  # positive semi-definite
    assert ((K >= 0) & (K <= 1 + 1e-12)).all()
    diag = kernel()(fp, fp, diag=True)
    assert torch.allclose(diag, torch.ones(40, dtype=torch.float64))


def test_minmax_hand_computed_counts():
    a = torch.tensor([[2.0, 0.0, 1.0]])
    b = torch.tensor([[1.0, 3.0, 1.0]])
    # sum min = 1 + 0 + 1 = 2; sum max = 2 + 3 + 1 = 6
    assert MinMaxKernel()(a, b).to_dense().item() == pytest.approx(1 / 3)


def test_zero_fingerprints_are_identical_to_each_other_only():
    z = torch.zeros(2, 5, dtype=torch.float64)
    x = torch.tensor([[1.0, 0, 0, 0, 0]], dtype=torch.float64)
    assert TanimotoKernel()(z, z).to_dense().tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert TanimotoKernel()(z, x).to_dense().tolist() == [[0.0], [0.0]]
