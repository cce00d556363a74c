-- Raw SQL floor of the officer's full person view (bench_http.py): the person, the access record,
-- the household with its head and current members (one join), residences, relations and
-- cancelled numbers, one commit. Variable (pgbench -D): maxid.
\set id random(1, :maxid)
BEGIN;
SELECT * FROM registry_person WHERE id = :id;
INSERT INTO core_accessrecord (at, actor, actor_unit, person_id_number, purpose, legal_basis, consent_ref, channel, fields)
  VALUES (now(), 'bench.api', 'Toàn quốc', lpad(:id::text, 12, '0'), 'Tra cứu nghiệp vụ', '', '', 'api', '["*"]');
SELECT m.*, h.*, hp.id_number, p.id_number, p.full_name, p.birth_date, p.sex
  FROM registry_householdmember me
  JOIN registry_household h ON h.id = me.household_id
  LEFT JOIN registry_person hp ON hp.id = h.head_id
  JOIN registry_householdmember m ON m.household_id = h.id AND m.left_on IS NULL
  JOIN registry_person p ON p.id = m.person_id
  WHERE me.person_id = :id AND me.left_on IS NULL ORDER BY m.joined_on;
SELECT * FROM registry_residence WHERE person_id = :id ORDER BY ended_on, valid_from DESC;
SELECT * FROM registry_familyrelation WHERE person_id = :id ORDER BY kind, valid_from;
SELECT * FROM registry_cancelledidnumber WHERE person_id = :id ORDER BY cancelled_at DESC;
COMMIT;
