"""Sub-commands of the `tdex` CLI, one module per capability."""
