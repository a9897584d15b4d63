"""Data: readers, validation, scalers, windows, tokenizers, bundled and synthetic datasets."""
