"""Picking a batch from scored candidates: top-k and maximin primitives, greedy conditioning of
an exact GP, the kriging believer, BoTorch q-batches, BatchBALD, diversity, and the dispatch
among them."""
