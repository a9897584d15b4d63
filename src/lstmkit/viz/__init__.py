"""Plots (matplotlib, written atomically as image files)."""
