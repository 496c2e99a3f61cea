"""The inference stage (above model, ARCHITECTURE.md): frames in, detections through one pipeline, drawings,
counts, people and files out."""
