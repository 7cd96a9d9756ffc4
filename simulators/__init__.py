"""Simulators of the external systems Tanhui talks to, for local runs and tests only."""
