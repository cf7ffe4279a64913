"""Material for the embedded demo project (see SOURCES.md); data only."""
