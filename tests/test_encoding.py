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
