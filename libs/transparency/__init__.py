"""Transparency log (RFC 9162 Merkle trees, signed checkpoints) over every service's event log."""
