"""Online public services (issue #4): procedures as data, dossiers and the commune-police workflow."""
