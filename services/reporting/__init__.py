"""The reporting service (its issue builds it; nothing here yet)."""
