-- Field-level encryption (ARCHITECTURE §3): one data key per subject, stored only wrapped by the
-- master key (local key file or AWS KMS). Destroying a subject's key keeps a tombstone row, so a
-- later write for an erased subject is refused instead of silently getting a fresh key.
create table kernel.data_keys (
  subject_id    text primary key check (length(subject_id) between 1 and 200),
  -- Which master key wrapped this one (`local:<fingerprint>` or `kms:<key id>`).
  master_key_id text not null check (length(master_key_id) between 1 and 300),
  wrapped_key   bytea check (octet_length(wrapped_key) <= 4096),
  created_at    timestamptz not null default clock_timestamp(),
  destroyed_at  timestamptz,
  check ((wrapped_key is null) = (destroyed_at is not null))
);
