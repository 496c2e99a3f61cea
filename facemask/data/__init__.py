"""Stage 1, the dataset: read the public sources, drop bad labels and duplicates, group copies, split, write."""
