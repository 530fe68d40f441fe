"""Real experimental data sets bundled with designloop (see designloop/data/README.md for
their sources), as candidate tables with a known target."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import pandas as pd

from designloop.errors import InputError


@dataclass(frozen=True)
class Dataset:
    """A bundled lookup table: every candidate's measured outcome is known."""

    name: str
    file: str
    target: str
    goal: str
    task: str
    citation: str


DATASETS: dict[str, Dataset] = {
    "buchwald_hartwig": Dataset(
        "buchwald_hartwig", "buchwald_hartwig.csv", "Yield", "maximize", "regression",
        "Ahneman et al., Science 360, 186 (2018): 3955 Pd-catalysed C-N couplings, 4 ligands "
        "x 22 additives x 3 bases x 15 aryl halides (SMILES)",
    ),
    "suzuki_miyaura": Dataset(
        "suzuki_miyaura", "suzuki_miyaura.csv", "yield", "maximize", "regression",
        "Perera et al., Science 359, 429 (2018): 5760 Suzuki-Miyaura couplings, 15 reactant "
        "pairs x 12 ligands x 8 bases x 4 solvents (SMILES; none = not added)",
    ),
    "reizman_suzuki": Dataset(
        "reizman_suzuki", "reizman_suzuki.csv", "yld", "maximize", "regression",
        "Reizman et al., React. Chem. Eng. 1, 658 (2016), case 1: 96 Suzuki couplings over "
        "8 precatalysts, residence time, temperature and loading; yield (%) and turnover "
        "number (ton)",
    ),
    "suzuki": Dataset(
        "suzuki", "suzuki.csv", "yield", "maximize", "regression",
        "Suzuki-Miyaura coupling: temperature, Pd loading, boronate and base equivalents "
        "(olymp 0.0.1b0)",
    ),
    "fullerenes": Dataset(
        "fullerenes", "fullerenes.csv", "product", "maximize", "regression",
        "Walker et al., React. Chem. Eng. 2, 785 (2017): fullerene functionalisation, 6x6x6 "
        "grid with replicates",
    ),
    "steels": Dataset(
        "steels", "steels.csv", "yield_strength_MPa", "maximize", "regression",
        "Matbench steels (Dunn et al., npj Comput. Mater. 2020): yield strength of 312 steels "
        "from 14 element fractions",
    ),
    "esol": Dataset(
        "esol", "esol.csv", "measured log solubility in mols per litre", "maximize",
        "regression", "Delaney, JCICS 2004 (ESOL): measured aqueous solubility of 1128 "
        "molecules (SMILES)",
    ),
    "metallic_glass": Dataset(
        "metallic_glass", "metallic_glass.csv", "target", "explore", "classification",
        "Matbench glass (Dunn et al. 2020): whether 5680 alloy compositions form a metallic "
        "glass",
    ),
}


def load_dataset(name: str) -> tuple[pd.DataFrame, Dataset]:
    """The table (features and measured target) and its description.

    Args:
        name: one of `DATASETS`.
    """
    if name not in DATASETS:
        raise InputError(f"unknown data set {name!r}; choose one of: {', '.join(DATASETS)}")
    meta = DATASETS[name]
    with resources.files("designloop.data").joinpath(meta.file).open("r") as handle:
        table = pd.read_csv(handle)
    return table, meta
