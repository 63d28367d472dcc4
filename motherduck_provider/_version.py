"""The package version, in one place (the user agent and the emulator report it)."""

__version__ = "0.1.0"
