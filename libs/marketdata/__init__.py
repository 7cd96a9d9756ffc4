"""The exchange's market-data rules shared by matching (which trades) and disclosure (which
publishes): daily bars and the close. Pure: no I/O."""
