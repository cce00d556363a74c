"""Operations: health and readiness probes, Prometheus metrics, the failed-tasks page (issue #12).
An app of its own because it reads other apps' models (dossiers, deliveries) and the console frame,
which ``core`` may not import."""
