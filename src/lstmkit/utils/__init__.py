"""Small helpers shared by every layer (imports only errors)."""
