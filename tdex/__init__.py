"""tdex: the front door (CLI, demo, benchmarks) of the trusted data exchange."""

__version__ = "0.1.0"
