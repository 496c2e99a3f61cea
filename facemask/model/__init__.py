"""Stage 2, the model: checkpoints, input size, training, evaluation and its logging."""
