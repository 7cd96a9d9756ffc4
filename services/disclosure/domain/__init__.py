"""Disclosure's pure domain code: no I/O, no framework."""
