"""Stage 3, inference: frames in, detections through one pipeline, drawings, counts, people and files out."""
