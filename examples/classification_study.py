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
# # Active learning for a classification target: which query strategy needs fewest labels?
#
# The breast-cancer data set (Wisconsin diagnostic, 569 tumours, 30 features, benign or
# malignant; shipped with scikit-learn) stands in for any pass/fail or phase label. Every
# campaign starts from the same kind of small initial design and then asks for 4 labels per
# cycle, chosen by one acquisition, until 60 are labelled. The random-forest committee is
# the surrogate (fast, and its trees are the committee for query-by-committee and BALD).
# After each cycle the model is scored on the whole pool. Four seeds per strategy.

# %%
from __future__ import annotations

import matplotlib.pyplot as plt
from _common import budget, output_dir, seeds

import designloop as dl
from designloop.bench.summary import curves, plot_curves, summarize

problem = dl.make_problem("breast_cancer")
strategies = ["random@forest", "least_confidence@forest", "margin@forest", "entropy@forest",
              "bald@forest", "qbc@forest"]
n = budget(60)
results = dl.simulate(problem, strategies, seeds=seeds(4), budget=n, batch_size=4,
                      n_jobs=2, progress=False)

# %%
table = summarize(results, "accuracy")
print(table.round(4).to_string(index=False))

# %%
fig, ax = plt.subplots(figsize=(6.4, 4.2))
plot_curves(results, "accuracy", ax=ax, title="Breast cancer: accuracy on the pool vs labels")
fig.savefig(output_dir() / "classification_study.png", dpi=120)

# %% [markdown]
# ## Conclusion (computed)
#
# How many labels each strategy needs, on average over seeds, to match the accuracy random
# sampling reaches with all 60:

# %%
mean_curves = curves(results, "accuracy")
goal = float(table.loc[table.strategy == "random@forest", "final_mean"].iloc[0])
for strategy, part in mean_curves.groupby("strategy", sort=False):
    reached = part.loc[part["mean"] >= goal, "n_observed"]
    needed = f"{int(reached.min())} labels" if len(reached) else f"not within {n} labels"
    print(f"{strategy:26s} reaches {goal:.4f}: {needed}")
best = table.loc[table.winner, "strategy"].iloc[0]
gain = float(table.final_mean.max() - goal)
print(f"Best at {n} labels: {best} ({table.final_mean.max():.4f} against {goal:.4f} for "
      f"random, +{gain:.4f}). With two classes and fully grown trees, least confidence, margin, "
      "entropy and vote entropy (QBC) all rank by how evenly the trees' votes split, so they "
      "pick the same tumours; BALD differs because it subtracts the trees' own uncertainty "
      "and looks for disagreement between them.")
assert gain > 0, "an uncertainty strategy should beat random sampling here"
