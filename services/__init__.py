"""The Genting services; each sub-package is one deployable and imports only `shared`."""
