"""Training engine: Keras-faithful models, loss, optimizer, and a loop that trains many models."""
