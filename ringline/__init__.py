"""Ringline: a self-hosted platform for AI phone calls."""

__version__ = "0.1.0"
