"""The ``kbtriage`` command: an entry point over the application layer, like ``api/``."""
