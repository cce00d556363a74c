-- Raw SQL floor of one eKYC answer (bench_http.py): the compared columns of one person, the
-- agency's daily quota charged with one conditional UPDATE and the access record, one commit.
-- Variables (pgbench -D): maxid, agency.
\set id random(1, :maxid)
BEGIN;
SELECT id_number, full_name, birth_date, birth_date_precision, sex, status FROM registry_person WHERE id = :id;
UPDATE exchange_dailyusage SET count = count + 1 WHERE agency_id = :agency AND day = current_date AND count <= 2000000000;
INSERT INTO core_accessrecord (at, actor, actor_unit, person_id_number, purpose, legal_basis, consent_ref, channel, fields)
  VALUES (now(), 'bench — bench-ekyc/ekyc', 'Benchmark bank', lpad(:id::text, 12, '0'), 'Benchmark eKYC', 'Benchmark', '', 'ekyc', '["birth_date", "full_name", "sex"]');
COMMIT;
