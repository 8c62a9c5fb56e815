"""Architecture configuration: schema (pydantic, extra='forbid'), loader, the packaged default."""
