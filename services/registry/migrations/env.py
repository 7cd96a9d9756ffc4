"""Alembic environment: shared implementation in libs.servicekit.alembic_env."""

from libs.servicekit.alembic_env import run

run()
