"""Operations: measurements about the lakehouse itself (freshness, maintenance)."""
