"""Production server configuration shipped with the package (``popid serve``)."""
