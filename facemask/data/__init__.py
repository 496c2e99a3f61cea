"""The data stage (the lowest, ARCHITECTURE.md), the dataset: read the public sources, drop bad labels and
duplicates, group copies, split, write."""
