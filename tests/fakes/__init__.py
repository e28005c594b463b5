"""Local stand-ins for network services, for tests that must never leave 127.0.0.1."""
