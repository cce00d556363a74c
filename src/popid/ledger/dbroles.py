"""PostgreSQL roles: the application runs as ``popid_app`` (least privilege), migrations as the
owner role. ``popid ledger db-roles`` (run as a superuser or the owner, after every ``migrate``)
creates them and grants:

- ``popid_app``: CONNECT, USAGE on the schema, USAGE/SELECT on sequences, and on every table
  SELECT, INSERT, UPDATE, DELETE — except the history tables: ``core_accessrecord`` gets SELECT,
  INSERT and UPDATE of ``committed_at`` only; the ledger's entries, nodes, checkpoints and keys
  SELECT and INSERT only; the sequencer's state, heads and map nodes no DELETE. Never TRUNCATE,
  TRIGGER or ownership, so it can neither disable the append-only triggers nor alter tables.
- the owner (``--owner-role``, optional): LOGIN, owns every table and sequence of the schema
  (``REASSIGN``-free: ``ALTER … OWNER``), runs ``popid migrate`` through its own URL.
"""

from __future__ import annotations

from django.db import connection

APPEND_ONLY = ("ledger_ledgerentry", "ledger_ledgernode", "ledger_checkpoint", "ledger_ledgerpublickey",
               "ledger_accessreveal",
               # police history (police/migrations/0002): chain of custody, case-file openings, case events,
               # notes and documents
               "police_custodyrecord", "police_caseopening", "police_caseevent", "police_casenote",
               "police_casedocument")
NO_DELETE = ("ledger_ledgerstate", "ledger_ledgerpersonhead", "ledger_ledgermapnode")
ACCESS_RECORDS = "core_accessrecord"


def _ident(name: str) -> str:
    if not name or not all(c.isalnum() or c == "_" for c in name) or len(name) > 63:
        raise ValueError(f"not a plain role name: {name!r}")
    return f'"{name}"'


def ensure_roles(*, app_role: str, owner_role: str | None = None, app_password: str | None = None,
                 owner_password: str | None = None, schema: str = "public") -> list[str]:
    """Create or update the roles and grants; returns the statements run (passwords masked)."""
    if connection.vendor != "postgresql":
        raise ValueError("database roles exist only on PostgreSQL")
    app, sch = _ident(app_role), _ident(schema)
    done: list[str] = []
    with connection.cursor() as cursor:
        def run(sql: str, params: list[str] | None = None, shown: str | None = None) -> None:
            cursor.execute(sql, params)
            done.append(shown or sql)

        def ensure(role: str, quoted: str, password: str | None) -> None:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone() is None:
                run(f"CREATE ROLE {quoted} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION")
            if password:
                cursor.execute(f"ALTER ROLE {quoted} PASSWORD %s", [password])
                done.append(f"ALTER ROLE {quoted} PASSWORD '***'")

        ensure(app_role, app, app_password)
        database = _ident(connection.settings_dict["NAME"])
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", [schema])
        tables = [row[0] for row in cursor.fetchall()]
        if owner_role:
            owner = _ident(owner_role)
            ensure(owner_role, owner, owner_password)
            run(f"GRANT ALL ON DATABASE {database} TO {owner}")
            run(f"GRANT ALL ON SCHEMA {sch} TO {owner}")
            for table in tables:
                run(f"ALTER TABLE {sch}.{_ident(table)} OWNER TO {owner}")
            cursor.execute("SELECT sequencename FROM pg_sequences WHERE schemaname = %s", [schema])
            for (sequence,) in cursor.fetchall():
                run(f"ALTER SEQUENCE {sch}.{_ident(sequence)} OWNER TO {owner}")
            # tables a later migration creates are usable at once; re-run db-roles to protect new history tables
            run(f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {sch} "
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}")
            run(f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {sch} GRANT USAGE, SELECT ON SEQUENCES TO {app}")
        run(f"GRANT CONNECT ON DATABASE {database} TO {app}")
        run(f"GRANT USAGE ON SCHEMA {sch} TO {app}")
        run(f"REVOKE CREATE ON SCHEMA {sch} FROM {app}")
        run(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {sch} TO {app}")
        for table in tables:
            name = f"{sch}.{_ident(table)}"
            run(f"REVOKE ALL ON {name} FROM {app}")
            if table == ACCESS_RECORDS:
                run(f"GRANT SELECT, INSERT ON {name} TO {app}")
                run(f"GRANT UPDATE (committed_at) ON {name} TO {app}")
            elif table in APPEND_ONLY:
                run(f"GRANT SELECT, INSERT ON {name} TO {app}")
            elif table in NO_DELETE:
                run(f"GRANT SELECT, INSERT, UPDATE ON {name} TO {app}")
            else:
                run(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {name} TO {app}")
    return done
