-- The evidence log (ADR 0012, ARCHITECTURE §7): one append-only RFC 9162 Merkle log for every draw
-- record and every audit record, with signed checkpoints, witness cosignatures and anchors.
--
-- Appends insert into log_pending inside the caller's transaction (no shared row is touched, so
-- writers never queue behind each other); one integrator at a time (advisory lock) moves committed
-- pending rows into log_leaves with contiguous indexes and writes the complete-subtree hashes.

-- Leaf hash of RFC 9162: SHA-256(0x00 ‖ data). Checked by the database itself, so no writer can
-- store a leaf hash that is not the hash of its bytes.
create function kernel.log_leaf_hash(data bytea) returns bytea language sql immutable strict parallel safe
  as $$ select sha256('\x00'::bytea || data) $$;

-- What was appended and not yet sequenced. A queue: rows are deleted as they are integrated.
create table kernel.log_pending (
  seq         bigint      generated always as identity primary key,
  id          uuid        not null unique,
  leaf_hash   bytea       not null check (leaf_hash = kernel.log_leaf_hash(data)),
  data        bytea       not null check (octet_length(data) between 1 and 65536),
  kind        text        not null check (kind in ('audit', 'record')),
  module      text        not null check (module ~ '^[a-z][a-z0-9_]{1,30}$'),
  type        text        not null check (length(type) between 3 and 200),
  visibility  text        not null check (visibility in ('public', 'restricted')),
  created_at  timestamptz not null default clock_timestamp()
);

-- The leaves: index 0, 1, 2… without gaps (the integrator asserts it; the primary key forbids doubles).
create table kernel.log_leaves (
  idx           bigint      primary key check (idx >= 0),
  pending_id    uuid        not null unique,
  leaf_hash     bytea       not null check (leaf_hash = kernel.log_leaf_hash(data)),
  data          bytea       not null check (octet_length(data) between 1 and 65536),
  kind          text        not null check (kind in ('audit', 'record')),
  module        text        not null,
  type          text        not null,
  visibility    text        not null check (visibility in ('public', 'restricted')),
  -- When the caller appended it (its transaction's clock), and when it got its index.
  recorded_at   timestamptz not null,
  integrated_at timestamptz not null default clock_timestamp()
);
create index log_leaves_leaf_hash on kernel.log_leaves (leaf_hash);

-- Complete subtrees only: node (level, idx) covers leaves [idx·2^level, (idx+1)·2^level). Level 0 is
-- the leaf hash itself (kept in log_leaves). A complete subtree never changes once the log grows past
-- it, which is what makes the table append-only; any proof or root is assembled from ≤ 2·log2(n) rows.
create table kernel.log_nodes (
  level smallint not null check (level between 1 and 62),
  idx   bigint   not null check (idx >= 0),
  hash  bytea    not null check (octet_length(hash) = 32),
  primary key (level, idx)
);

-- The log's signing key (Ed25519). The private key is stored only encrypted by field crypto (a data
-- key wrapped by the master key: the local key file, or AWS KMS). One row: a log's origin never changes.
create table kernel.log_keys (
  origin          text        primary key check (length(origin) between 1 and 200),
  vkey            text        not null unique check (length(vkey) <= 400),
  private_key_enc text        not null,
  created_at      timestamptz not null default clock_timestamp()
);
create unique index log_keys_single on kernel.log_keys ((true));

-- Signed checkpoints (C2SP tlog-checkpoint in a C2SP signed note), one per tree size signed.
create table kernel.log_checkpoints (
  size      bigint      primary key check (size >= 0),
  root_hash bytea       not null check (octet_length(root_hash) = 32),
  note      text        not null check (length(note) <= 8192),
  signed_at timestamptz not null default clock_timestamp()
);
create index log_checkpoints_signed_at on kernel.log_checkpoints (signed_at);

-- Witnesses whose cosignatures this log accepts and serves (registered by operators, audited).
create table kernel.log_witnesses (
  name          text        primary key check (length(name) between 1 and 200),
  vkey          text        not null unique check (length(vkey) <= 400),
  registered_by text        not null,
  registered_at timestamptz not null default clock_timestamp()
);

-- C2SP tlog-cosignature lines, verified before they are stored; served with the checkpoint.
create table kernel.log_cosignatures (
  checkpoint_size bigint      not null references kernel.log_checkpoints (size),
  witness         text        not null references kernel.log_witnesses (name),
  line            text        not null check (length(line) <= 1000),
  cosigned_at     timestamptz not null,
  received_at     timestamptz not null default clock_timestamp(),
  primary key (checkpoint_size, witness)
);

-- Checkpoints handed to external anchors (a file directory, an HTTP endpoint). A delivery record,
-- not evidence: its status changes as the job retries.
create table kernel.log_anchors (
  checkpoint_size bigint      not null references kernel.log_checkpoints (size),
  anchor          text        not null check (length(anchor) between 1 and 300),
  status          text        not null default 'pending' check (status in ('pending', 'anchored')),
  attempts        int         not null default 0,
  last_error      text        check (length(last_error) <= 1000),
  receipt         text        check (length(receipt) <= 4096),
  created_at      timestamptz not null default clock_timestamp(),
  anchored_at     timestamptz,
  primary key (checkpoint_size, anchor)
);
create index log_anchors_recent on kernel.log_anchors (anchor, created_at);

create function kernel.log_refuse_change() returns trigger language plpgsql as $$
begin
  raise exception '% is append-only: % refused', tg_table_schema || '.' || tg_table_name, tg_op using errcode = 'insufficient_privilege';
end;
$$;
create trigger log_leaves_no_update_delete before update or delete on kernel.log_leaves for each row execute function kernel.log_refuse_change();
create trigger log_leaves_no_truncate before truncate on kernel.log_leaves for each statement execute function kernel.log_refuse_change();
create trigger log_nodes_no_update_delete before update or delete on kernel.log_nodes for each row execute function kernel.log_refuse_change();
create trigger log_nodes_no_truncate before truncate on kernel.log_nodes for each statement execute function kernel.log_refuse_change();
create trigger log_checkpoints_no_update_delete before update or delete on kernel.log_checkpoints for each row execute function kernel.log_refuse_change();
create trigger log_checkpoints_no_truncate before truncate on kernel.log_checkpoints for each statement execute function kernel.log_refuse_change();
create trigger log_cosignatures_no_update_delete before update or delete on kernel.log_cosignatures for each row execute function kernel.log_refuse_change();
create trigger log_cosignatures_no_truncate before truncate on kernel.log_cosignatures for each statement execute function kernel.log_refuse_change();

-- Audit records now live in the log. The hash chain of issue 2 is kept, readable and verifiable
-- (verifyAuditChain), and closed to new records.
alter table kernel.audit_log rename to audit_chain;
alter index kernel.audit_log_subject rename to audit_chain_subject;
alter index kernel.audit_log_actor rename to audit_chain_actor;
create function kernel.audit_chain_closed() returns trigger language plpgsql as $$
begin
  raise exception 'kernel.audit_chain is closed: audit records go to the evidence log' using errcode = 'insufficient_privilege';
end;
$$;
create trigger audit_chain_closed before insert on kernel.audit_chain for each statement execute function kernel.audit_chain_closed();

-- The queryable copy of each audit record (by subject, actor, action). The record itself is the log
-- leaf `leaf_hash` (its canonical JSON); verifyAuditRecords re-derives every row's leaf hash, so an
-- edited row shows. Written in the caller's transaction together with the pending log row.
create table kernel.audit_records (
  sequence    bigint      generated by default as identity primary key,
  id          uuid        not null unique,
  module      text        not null,
  actor       text        not null,
  action      text        not null,
  subject     text,
  reason      text,
  data        jsonb       not null default '{}',
  trace_id    text,
  recorded_at timestamptz not null,
  leaf_hash   bytea       not null unique check (octet_length(leaf_hash) = 32)
);
create index audit_records_subject on kernel.audit_records (subject, sequence) where subject is not null;
create index audit_records_actor on kernel.audit_records (actor, sequence);
create index audit_records_action on kernel.audit_records (action, sequence);
-- Sequences continue after the chain's, so one ordering spans both.
select setval(pg_get_serial_sequence('kernel.audit_records', 'sequence'), coalesce((select max(sequence) from kernel.audit_chain), 0) + 1, false);
create trigger audit_records_no_update_delete before update or delete on kernel.audit_records for each row execute function kernel.log_refuse_change();
create trigger audit_records_no_truncate before truncate on kernel.audit_records for each statement execute function kernel.log_refuse_change();

-- One readable history under the old name: the closed chain, then the log's records.
create view kernel.audit_log as
  select sequence, id, module, actor, action, subject, reason, data, trace_id, recorded_at,
         hash, prev_hash, null::text as leaf_hash
    from kernel.audit_chain
  union all
  select sequence, id, module, actor, action, subject, reason, data, trace_id, recorded_at,
         null::text, null::text, encode(leaf_hash, 'hex')
    from kernel.audit_records;
