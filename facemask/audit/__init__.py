"""The audit stage (above inference, ARCHITECTURE.md), the label audit: where a model and the labels
disagree, for review, and corrected copies."""
