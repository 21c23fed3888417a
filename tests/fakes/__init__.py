"""Local fake servers of outside services, served on 127.0.0.1 by the test suite."""
