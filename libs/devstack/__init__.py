"""The local platform: embedded PostgreSQL, the Tansu broker and the four services."""
