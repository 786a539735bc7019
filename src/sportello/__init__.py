"""Sportello: a help desk with billing built in, for IT-service companies."""

__version__ = "0.1.0"
