"""Readers, validation, scalers, windows, tokenizers: validated inputs for the models.

Never imports :mod:`lstmkit.models` or :mod:`lstmkit.train`.
"""
