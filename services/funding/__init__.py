"""The funding service (its issue builds it; nothing here yet)."""
