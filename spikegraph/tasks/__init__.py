"""Tasks built on the models: each a thin layer that the examples call."""
