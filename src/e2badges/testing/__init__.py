"""Tools for testing apps and stores that use e2badges (needs pytest)."""
