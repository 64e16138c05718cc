"""Run Genting on one machine: the `genting` command, embedded servers and the service table."""
