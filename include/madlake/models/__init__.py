"""Pydantic models of the records each source returns (validated at the boundary, frozen)."""
