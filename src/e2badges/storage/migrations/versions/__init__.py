"""One module per schema version; the revision id is the version on four digits."""
