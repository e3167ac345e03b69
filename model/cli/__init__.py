"""The command line: `twitchdx infer | validate | export | ask | fit ...` (one module a command family)."""

from .main import main

__all__ = ["main"]
