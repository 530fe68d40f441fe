import numpy as np
import pandas as pd
import pytest

import designloop as dl
from designloop.features.encoding import infer_role


def test_roles_are_inferred_and_overridable():
    df = pd.DataFrame({"t": [1.0, 2.0, 3.0], "solvent": ["thf", "dmf", "thf"],
                       "ligand": ["CCO", "c1ccccc1P", "CC(C)(C)P"], "grid": [1, 2, 3]})
    enc = dl.Encoder().fit(df, list(df.columns))
    assert enc.roles_ == {"t": "numeric", "solvent": "categorical", "ligand": "smiles",
                          "grid": "numeric"}
    enc = dl.Encoder(roles={"grid": "categorical"}).fit(df, list(df.columns))
    assert enc.roles_["grid"] == "categorical"
    assert set(enc.describe()["role"]) == {"numeric", "categorical", "smiles"}


def test_numeric_scaled_to_unit_interval_and_one_hot():
    df = pd.DataFrame({"t": [10.0, 20.0, 30.0], "s": ["a", "b", "a"]})
    X = dl.Encoder().fit(df, ["t", "s"]).features()
    assert X.numpy() == pytest.approx(np.array([[0, 1, 0], [0.5, 0, 1], [1, 1, 0]]))


def test_smiles_encodings():
    df = pd.DataFrame({"ligand": ["CCO", "c1ccccc1O", "CCO", "none"],
                       "base": ["CCN(CC)CC", "CCN(CC)CC", "[Na+].[OH-]", "[Na+].[OH-]"]})
    enc = dl.Encoder(morgan_bits=256).fit(df, ["ligand", "base"])
    onehot = enc.features("onehot")
    assert onehot.shape == (4, 3 + 2)
    morgan = enc.features("morgan")
    assert morgan.shape[0] == 4 and set(morgan.unique().tolist()) <= {0.0, 1.0}
    assert (morgan[0] == morgan[2]).sum() < morgan.shape[1]  # different bases differ
    desc = enc.features("descriptors")
    assert desc.shape[0] == 4 and desc.shape[1] >= 1
    assert desc.mean(0).abs().max() < 1e-9  # standardised
    assert enc.default_kernel("morgan") == "tanimoto"
    assert enc.default_kernel("descriptors") == "matern"
    with pytest.raises(dl.InputError, match="smiles_encoding"):
        enc.features("graph")


def test_invalid_values_name_the_row():
    df = pd.DataFrame({"x": [1.0, np.nan, 3.0]})
    with pytest.raises(dl.InputError, match=r"column 'x' is empty at line\(s\) 3"):
        dl.Encoder().fit(df, ["x"], source="c.csv")
    df = pd.DataFrame({"x": ["1", "2", "three"]})
    with pytest.raises(dl.InputError, match="not a number at line"):
        dl.Encoder(roles={"x": "numeric"}).fit(df, ["x"])
    df = pd.DataFrame({"lig": ["CCO", "c1ccccc1", "C1CC(", "CCN", "CCCl"]})
    with pytest.raises(dl.InputError, match="column 'lig', row 4"):
        dl.Encoder().fit(df, ["lig"])


def test_words_are_not_smiles():
    assert infer_role(pd.Series(["THF", "DMSO", "water"])) == "categorical"
    assert infer_role(pd.Series(["CCO", "CCCC", "CC(C)C"])) == "smiles"


def test_each_distinct_smiles_is_parsed_once(monkeypatch):
    from designloop.features import molecules

    seen = []
    real = molecules.parse
    monkeypatch.setattr(molecules, "parse", lambda v: seen.append(v) or real(v))
    molecules.check_smiles(["CCO", "c1ccccc1", "none", "CCO"] * 50, "lig", "c.csv")
    assert sorted(seen) == ["CCO", "c1ccccc1"]
    with pytest.raises(dl.InputError, match="column 'lig', row 4 "):
        molecules.check_smiles(["CCO", "CCO", "C1CC(", "C1CC("], "lig", "c.csv")


LIGANDS = ["CCO", "c1ccccc1O", "CC(C)(C)P", "c1ccncc1", "none"]


def test_mordred_describes_each_molecule_once_decorrelated():
    from designloop.features import molecules
    from designloop.features.encoding import _per_molecule

    bases = ["CCN(CC)CC", "[Na+].[OH-]", "CC(C)(C)[O-].[K+]"] * 5
    df = pd.DataFrame({"ligand": LIGANDS * 3, "base": bases})
    enc = dl.Encoder().fit(df, ["ligand", "base"])
    X = enc.features("mordred").numpy()
    lig, base = _per_molecule(LIGANDS * 3), _per_molecule(bases)
    assert X.shape == (15, lig.shape[1] + base.shape[1]) and lig.shape[1] >= 2
    assert np.array_equal(X, np.hstack([lig, base]))  # each column's block, side by side
    assert np.array_equal(lig[0], lig[5]) and not np.array_equal(lig[0], lig[1])
    assert len(np.unique(X, axis=0)) == 15  # 5 ligands x 3 bases, each pairing once
    raw = molecules.mordred(["CCO", "none", "CCO"])
    assert raw.shape[1] > 1000 and not raw[1].any()  # 'none' is a row of zeros
    assert np.array_equal(raw[0], raw[2], equal_nan=True)
    assert enc.default_kernel("mordred") == "matern"


def test_mordred_block_of_one_column_is_standardised_and_decorrelated():
    from designloop.features.encoding import MORDRED_DECORRELATION, _per_molecule

    block = _per_molecule(LIGANDS * 2)
    distinct = block[:5]
    assert np.abs(distinct.mean(0)).max() < 1e-9
    assert distinct.std(0) == pytest.approx(np.ones(block.shape[1]))
    corr = np.abs(np.corrcoef(distinct, rowvar=False))
    np.fill_diagonal(corr, 0.0)
    assert corr.max() < MORDRED_DECORRELATION
    assert block.shape[1] <= 1613
    assert _per_molecule(["CCO"] * 4).shape == (4, 0)  # one molecule tells nothing apart


def test_reaction_components_get_mordred_and_libraries_the_likelihood_choice():
    import torch

    from designloop.campaign.encoding_choice import COMPONENT_MAX_MOLECULES, choose_encoding

    components = pd.DataFrame({"ligand": LIGANDS * 4, "t": np.linspace(0, 1, 20)})
    enc = dl.Encoder().fit(components, ["ligand", "t"])
    y = torch.linspace(0, 1, 8, dtype=torch.float64)
    encoding, why = choose_encoding(enc, torch.arange(8), y, "regression", 8)
    assert encoding == "mordred" and "Mordred" in why["encoding_reason"]
    # a library of more distinct molecules than that: leave-one-out likelihood among three
    library = pd.DataFrame({"smiles": ["C" * (i + 1) + "O" for i in
                                       range(COMPONENT_MAX_MOLECULES + 1)]})
    enc = dl.Encoder().fit(library, ["smiles"])
    y = torch.sin(torch.arange(12, dtype=torch.float64))
    encoding, why = choose_encoding(enc, torch.arange(12), y, "regression", 12)
    assert set(why["encoding_scores"]) == {"onehot", "morgan", "descriptors"}
    assert encoding == max(why["encoding_scores"], key=why["encoding_scores"].get)
    # classification keeps Morgan fingerprints
    enc = dl.Encoder().fit(components, ["ligand", "t"])
    assert choose_encoding(enc, torch.arange(8), y[:8], "classification", 8)[0] == "morgan"


def test_molecules_mordred_cannot_tell_apart_still_get_rows_of_their_own():
    from designloop.features.encoding import _per_molecule

    # enantiomers have the same 2-D descriptors: each gets a 0/1 column of its own
    pair = ["C[C@H](O)CC", "C[C@@H](O)CC"]
    block = _per_molecule(pair * 2)
    assert block.shape == (4, 2) and not np.array_equal(block[0], block[1])
    assert np.array_equal(block[0], block[2])
    block = _per_molecule([*pair, "CCO", "none"])
    assert len(np.unique(block, axis=0)) == 4
    # a table of just the two enantiomers is still encoded (no "no features" error)
    enc = dl.Encoder().fit(pd.DataFrame({"ligand": pair * 3}), ["ligand"])
    assert enc.features("mordred").shape == (6, 2)
