"""The pytest plugin entry point (registered through ``pytest11``)."""
