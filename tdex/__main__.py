"""Allow `python -m tdex`."""

from tdex.cli import main

main()
