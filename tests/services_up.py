"""Exit 0 when PostgreSQL and Redis answer on their usual ports, 1 otherwise (used by `make test`)."""
import socket
import sys

for port in (5432, 6379):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        sys.exit(1)
sys.exit(0)
