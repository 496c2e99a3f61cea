"""The model stage (above data, ARCHITECTURE.md): checkpoints, input size, training, evaluation and its logging."""
