"""born_assets: teacher lanes and trace imports to versioned, provenance-complete releases."""
