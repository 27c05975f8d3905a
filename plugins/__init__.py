"""First-party plugins, registered through the same entry points a third party would use (pyproject.toml)."""
