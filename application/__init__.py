"""The application layer: what joins the domains (training pipeline, worker, reports across tickets
and articles, API keys, start-up recovery, the runtime that wires settings to the parts)."""
