"""The campaign report renders every section from real campaigns."""

import numpy as np
import pandas as pd

import designloop as dl
from designloop.bench.datasets import load_dataset
from designloop.campaign.report import SECTIONS


def run(campaign, truth, target, cycles):
    for _ in range(cycles):
        picks = campaign.suggest()
        picks[target] = truth[picks.candidate_id]
        campaign.observe(picks)
    campaign.suggest()


def test_report_of_a_real_optimisation_campaign(tmp_path):
    table, meta = load_dataset("suzuki")
    c = dl.Campaign(table.drop(columns="yield"), target="yield", goal="maximize", batch_size=4,
                    seed=0, store=tmp_path / "lab.db")
    run(c, table["yield"].to_numpy(), "yield", 4)
    path = tmp_path / "report.html"
    report = c.report(path)
    text = path.read_text()
    assert text == report._repr_html_()
    for name in SECTIONS:
        assert f"<h2>{name}</h2>" in text
    assert text.count("data:image/png;base64,") == 3  # progress, calibration, map
    assert "leave-one-out" in text and "predicted_ood_score" in text and "pending" in text
    assert "<script" not in text and "http" not in text.replace("http-equiv", "")


def test_report_of_a_classification_campaign_and_before_any_result():
    gen = np.random.default_rng(0)
    X = gen.uniform(size=(80, 2))
    labels = np.where(X.sum(1) > 1, "works", "fails")
    c = dl.Campaign(pd.DataFrame({"a": X[:, 0], "b": X[:, 1]}), target="outcome",
                    task="classification", surrogate="forest", batch_size=5, seed=0)
    empty = c.report()._repr_html_()
    assert "Nothing measured yet" in empty and "No suggestions yet" in empty
    run(c, labels, "outcome", 3)
    text = c.report()._repr_html_()
    assert "Accuracy" in text and "ECE" in text and text.count("data:image/png") == 3


def test_report_command(tmp_path, capsys, monkeypatch):
    from tests.test_cli import run as cli

    table, _ = load_dataset("fullerenes")
    c = dl.Campaign(table.drop(columns="product"), target="product", goal="maximize",
                    batch_size=3, seed=0, store=tmp_path / "f.db")
    run(c, table["product"].to_numpy(), "product", 3)
    c.store.close()
    code, out, err = cli(["report", tmp_path / "f.db", "-o", tmp_path / "r.html"], capsys,
                         monkeypatch)
    assert code == 0, err
    assert "<h2>Map of candidates</h2>" in (tmp_path / "r.html").read_text()
