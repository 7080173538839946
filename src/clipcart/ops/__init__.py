"""Operations: health, readiness and metrics endpoints."""
