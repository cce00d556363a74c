-- The database round trip of the framework floor (/healthz/db): one SELECT 1.
SELECT 1;
