"""Simulated campaigns: benchmark problems and lookup tables, strategies, parallel simulation
and summaries."""
