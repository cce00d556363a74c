"""``core.append_only`` writes the append-only triggers of the ledger and police migrations: the
statements must stay exactly those the migrations first ran by hand (already-applied migrations now
call the helper, so a change here would change what a fresh database gets), and on PostgreSQL every
history table carries its trigger."""

from __future__ import annotations

import pytest
from django.db import connection

from popid.core import append_only

# police/migrations/0003 and ledger/migrations/0003 as first written (commit 5d468a4)
ORIGINAL_POLICE_FUNCTION = """
CREATE OR REPLACE FUNCTION popid_police_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""
ORIGINAL_LEDGER_FUNCTION = """
CREATE OR REPLACE FUNCTION popid_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""
HISTORY = {"police_custodyrecord": "popid_police_append_only", "police_caseopening": "popid_police_append_only",
           "police_caseevent": "popid_police_append_only", "police_casenote": "popid_police_append_only",
           "police_casedocument": "popid_police_append_only", "ledger_ledgerentry": "popid_ledger_append_only",
           "ledger_ledgernode": "popid_ledger_append_only", "ledger_checkpoint": "popid_ledger_append_only",
           "ledger_ledgerpublickey": "popid_ledger_append_only", "ledger_accessreveal": "popid_ledger_append_only"}


def test_the_helper_writes_the_statements_the_migrations_first_ran():
    assert append_only.function_sql("popid_police_append_only") == ORIGINAL_POLICE_FUNCTION
    assert append_only.function_sql("popid_ledger_append_only") == ORIGINAL_LEDGER_FUNCTION
    assert append_only.trigger_sql("police_casenote", "popid_police_append_only") == [
        "DROP TRIGGER IF EXISTS police_casenote_append_only ON police_casenote",
        "CREATE TRIGGER police_casenote_append_only BEFORE UPDATE OR DELETE ON police_casenote "
        "FOR EACH ROW EXECUTE FUNCTION popid_police_append_only()"]
    with pytest.raises(ValueError):
        append_only.function_sql("x(); DROP TABLE y; --")


@pytest.mark.django_db
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the triggers exist on PostgreSQL")
def test_every_history_table_has_its_trigger():
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname, p.proname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                       "JOIN pg_proc p ON p.oid = t.tgfoid WHERE t.tgname = c.relname || '_append_only'")
        found = dict(cursor.fetchall())
    assert {table: found.get(table) for table in HISTORY} == HISTORY
