# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -all
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
# ---

# %% [markdown]
# # A materials campaign from CSV files: strong steels
#
# The Matbench steels table (Dunn et al., npj Comput. Mater. 2020) gives the measured yield
# strength of 312 steels from 14 element fractions. We play the lab: designloop reads the
# candidate compositions from a CSV file, suggests 4 steels per cycle, we look their yield
# strength up in the table and hand the results back. After 10 cycles we compare the
# strongest steel found with what random choice of the same number of steels finds.

# %%
from __future__ import annotations

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from _common import output_dir, random_best_so_far

import designloop as dl
from designloop.bench.datasets import load_dataset

table, meta = load_dataset("steels")
target = meta.target
folder = Path(tempfile.mkdtemp())
table.drop(columns=[target]).to_csv(folder / "candidates.csv", index=False)
print(f"{len(table)} candidate steels, {table.shape[1] - 1} composition columns")

# %% [markdown]
# The campaign reads the candidates from the CSV file and logs every cycle in a SQLite file.

# %%
candidates = pd.read_csv(folder / "candidates.csv")
campaign = dl.Campaign(candidates, target=target, goal="maximize", batch_size=4, seed=0,
                       store=folder / "steels.db")
CYCLES = 10
for cycle in range(CYCLES):
    batch = campaign.suggest()
    batch[target] = table.loc[batch["candidate_id"], target].to_numpy()  # "the lab"
    campaign.observe(batch[["candidate_id", target]])
    print(f"cycle {cycle + 1:2d}: measured {batch[target].round(0).tolist()} MPa, "
          f"best so far {campaign.best()[target]:.0f} MPa")

# %% [markdown]
# The history holds every suggestion with its prediction and what came back.

# %%
history = campaign.history()
print(history[["cycle", "kind", "candidate_id", "predicted_mean", "predicted_sd",
               "measured_mean"]].tail(8).round(1).to_string(index=False))

# %%
measured = history.dropna(subset=["measured_mean"]).sort_values(["cycle", "rank"])
found = np.maximum.accumulate(measured["measured_mean"].to_numpy())
budget = len(found)
baseline = random_best_so_far(table[target].to_numpy(), budget)
rank = int((table[target] > found[-1]).sum()) + 1
beaten = float((baseline[:, -1] < found[-1]).mean())

fig, ax = plt.subplots(figsize=(6, 4))
steps = np.arange(1, budget + 1)
ax.plot(steps, found, label="designloop (GP, log EI, greedy batches of 4)", lw=2)
ax.plot(steps, np.median(baseline, 0), label="random: median of 2,000 runs", color="gray")
ax.fill_between(steps, *np.percentile(baseline, [10, 90], axis=0), color="gray", alpha=0.2,
                label="random: 10-90%")
ax.axhline(table[target].max(), ls=":", color="k", label="strongest steel in the table")
ax.set(xlabel="steels measured", ylabel="best yield strength so far (MPa)",
       title="Searching 312 steels for strength")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(output_dir() / "materials_campaign.png", dpi=120)

# %% [markdown]
# ## Conclusion (computed)

# %%
print(f"After {budget} of {len(table)} steels, designloop's strongest is {found[-1]:.0f} MPa, "
      f"rank {rank} of {len(table)} (the best is {table[target].max():.0f} MPa). Random "
      f"choice of {budget} steels finds {np.median(baseline[:, -1]):.0f} MPa in the median; "
      f"designloop's result beats {beaten:.0%} of 2,000 random campaigns.")
assert beaten > 0.5, "the campaign should beat the median random campaign"
