"""kb-triage: knowledge-base assisted ticket triage. Shared plumbing (config, database, errors, CLI)."""

__version__ = "0.1.0"
