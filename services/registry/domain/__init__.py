"""Pure registry logic: serial numbers, blocks, errors. Imports nothing from I/O."""
