"""The bottom layer: settings, database plumbing, errors, file and thread helpers. Imports no
other package of kb-triage."""

__version__ = "0.1.0"
