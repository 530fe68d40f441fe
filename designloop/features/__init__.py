"""Turning a candidate table into numbers: roles of columns, SMILES encodings (one-hot, Morgan
fingerprints, RDKit descriptors), compositions, and the choice among encodings."""
