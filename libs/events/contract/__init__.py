"""Event payloads of every service: the contract between producers and consumers."""
