"""Benchmarks of Latchkey against reference pages and a bare Starlette floor (not tests)."""
