"""The aid service (its issue builds it; nothing here yet)."""
