"""The design-test loop: the Campaign, its checked configuration, the model step, the SQLite
log, reading and matching tables, history and report."""
