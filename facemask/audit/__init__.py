"""Stage 1b, the label audit: where a model and the labels disagree, for review, and corrected copies."""
