"""The lowest layer: errors, paths, running commands, pins.toml."""
