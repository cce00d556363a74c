#!/usr/bin/env bash
# A PostgreSQL streaming replica of the local primary, as a second cluster on this machine
# (Debian's postgresql-common: pg_createcluster / pg_ctlcluster). Idempotent: re-running it on a
# healthy replica changes nothing; a replica that is not streaming is rebuilt from the primary.
#
#   deploy/replica/setup-replica.sh            # set up (or check) the replica on port 5433
#   deploy/replica/setup-replica.sh --remove   # stop and drop the replica and its slot
#
# Environment: PRIMARY_HOST (127.0.0.1), PRIMARY_PORT (5432), PRIMARY_USER (postgres),
# REPLICA_PORT (5433), REPLICA_CLUSTER (replica), PG_VERSION (the primary's major version),
# SLOT (popid_replica).
#
# On the primary it changes only what is missing: wal_level (replica; needs a restart, done only
# if it was `minimal`), max_wal_senders (≥ 2), and one pg_hba.conf line allowing replication
# connections from 127.0.0.1 with the same method as the primary's existing 127.0.0.1 line (then
# a reload). The replica streams through a physical replication slot, so the primary keeps the
# WAL it has not received: --remove drops the slot with the replica (a stopped replica that keeps
# its slot makes the primary keep WAL without bound).
set -euo pipefail

PRIMARY_HOST="${PRIMARY_HOST:-127.0.0.1}"
PRIMARY_PORT="${PRIMARY_PORT:-5432}"
PRIMARY_USER="${PRIMARY_USER:-postgres}"
REPLICA_PORT="${REPLICA_PORT:-5433}"
REPLICA_CLUSTER="${REPLICA_CLUSTER:-replica}"
SLOT="${SLOT:-popid_replica}"

say() { echo "replica: $*"; }
psql_primary() { psql -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$PRIMARY_USER" -d postgres -XAtqw "$@"; }
psql_replica() { psql -h 127.0.0.1 -p "$REPLICA_PORT" -U "$PRIMARY_USER" -d postgres -XAtqw "$@"; }
# Cluster files belong to the postgres user: run the PostgreSQL tools as that user when root.
as_postgres() { if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if ! pg_isready -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -q; then
  echo "replica: the primary at $PRIMARY_HOST:$PRIMARY_PORT is not accepting connections" >&2; exit 1
fi
PG_VERSION="${PG_VERSION:-$(psql_primary -c "SHOW server_version_num" | cut -c1-2)}"
BIN="/usr/lib/postgresql/$PG_VERSION/bin"

if [ "${1:-}" = "--remove" ]; then
  if pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$PG_VERSION $REPLICA_CLUSTER"; then
    pg_dropcluster --stop "$PG_VERSION" "$REPLICA_CLUSTER"
    say "dropped cluster $PG_VERSION/$REPLICA_CLUSTER"
  fi
  if [ "$(psql_primary -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$SLOT'")" = "1" ]; then
    psql_primary -c "SELECT pg_drop_replication_slot('$SLOT')" >/dev/null
    say "dropped slot $SLOT on the primary"
  fi
  exit 0
fi

# --- the primary: only what is missing -------------------------------------------------------
restart_needed=0
if [ "$(psql_primary -c "SHOW wal_level")" = "minimal" ]; then
  psql_primary -c "ALTER SYSTEM SET wal_level = 'replica'"; restart_needed=1
  say "primary: wal_level set to replica"
fi
if [ "$(psql_primary -c "SHOW max_wal_senders")" -lt 2 ]; then
  psql_primary -c "ALTER SYSTEM SET max_wal_senders = 10"; restart_needed=1
  say "primary: max_wal_senders set to 10"
fi
HBA="$(psql_primary -c "SHOW hba_file")"
if ! psql_primary -c "SELECT count(*) FROM pg_hba_file_rules WHERE type = 'host' AND 'replication' = ANY(database)
      AND (address = '127.0.0.1' OR address IS NULL OR address = 'all')" | grep -qv '^0$'; then
  method="$(psql_primary -c "SELECT auth_method FROM pg_hba_file_rules WHERE type = 'host' AND address = '127.0.0.1'
            AND 'all' = ANY(database) ORDER BY line_number LIMIT 1")"
  method="${method:-scram-sha-256}"
  printf '# popid streaming replica on this host (deploy/replica/setup-replica.sh)\nhost replication %s 127.0.0.1/32 %s\n' \
    "$PRIMARY_USER" "$method" >>"$HBA"
  psql_primary -c "SELECT pg_reload_conf()" >/dev/null
  say "primary: replication from 127.0.0.1 allowed in $HBA ($method)"
fi
if [ $restart_needed = 1 ]; then
  say "primary: restarting for wal_level/max_wal_senders"
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main restart
  for _ in $(seq 1 30); do pg_isready -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -q && break; sleep 1; done
fi

# --- the replica -----------------------------------------------------------------------------
streaming() {
  pg_isready -h 127.0.0.1 -p "$REPLICA_PORT" -q &&
    [ "$(psql_replica -c "SELECT pg_is_in_recovery() AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver
                                                              WHERE status = 'streaming')")" = "t" ]
}
exists() { pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$PG_VERSION $REPLICA_CLUSTER"; }

if exists; then
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$REPLICA_CLUSTER" start >/dev/null 2>&1 || true
  for _ in $(seq 1 20); do streaming && break; sleep 1; done
  if streaming; then
    say "$PG_VERSION/$REPLICA_CLUSTER on port $REPLICA_PORT is streaming from the primary (nothing to do)"; exit 0
  fi
  say "$PG_VERSION/$REPLICA_CLUSTER exists but is not streaming: rebuilding it"
  pg_dropcluster --stop "$PG_VERSION" "$REPLICA_CLUSTER"
fi

pg_createcluster "$PG_VERSION" "$REPLICA_CLUSTER" -p "$REPLICA_PORT" >/dev/null
DATA="$(pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$REPLICA_CLUSTER" '$1 == v && $2 == c {print $6}')"
CONF="/etc/postgresql/$PG_VERSION/$REPLICA_CLUSTER"
as_postgres find "$DATA" -mindepth 1 -delete
if [ "$(psql_primary -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$SLOT'")" = "1" ]; then
  psql_primary -c "SELECT pg_drop_replication_slot('$SLOT')" >/dev/null  # left over from an earlier replica
fi
say "pg_basebackup from $PRIMARY_HOST:$PRIMARY_PORT into $DATA"
as_postgres "$BIN/pg_basebackup" -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$PRIMARY_USER" -D "$DATA" \
  --wal-method=stream --write-recovery-conf --create-slot --slot="$SLOT" --checkpoint=fast --no-password
# The base backup copied the primary's postgresql.auto.conf; the Debian config in $CONF sets the
# port. A standby that answers reads: hot_standby (default on); report its replay position.
cat >"$CONF/conf.d/popid-replica.conf" <<EOF
# deploy/replica/setup-replica.sh
listen_addresses = '127.0.0.1'
hot_standby = on
hot_standby_feedback = on
max_standby_streaming_delay = 30s
EOF
# The standby answers the same clients as its primary: the same access rules.
cp "$HBA" "$CONF/pg_hba.conf"
chown postgres:postgres "$CONF/conf.d/popid-replica.conf" "$CONF/pg_hba.conf"
pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$REPLICA_CLUSTER" start
for _ in $(seq 1 60); do streaming && break; sleep 1; done
if ! streaming; then
  echo "replica: $PG_VERSION/$REPLICA_CLUSTER started but is not streaming; see /var/log/postgresql/" >&2; exit 1
fi
say "$PG_VERSION/$REPLICA_CLUSTER on port $REPLICA_PORT is streaming from $PRIMARY_HOST:$PRIMARY_PORT"
