-- Runtime configuration (ARCHITECTURE §8, ADR 0013): game rules and feature flags that operators
-- change while the platform runs. Modules declare each key in code with a schema and a default; a
-- row here is one version of a value someone set, with who and why. The table is append-only: the
-- current value is the highest version, and the primary key is the optimistic-concurrency check
-- (two operators who both read version 3 cannot both write version 4).
create table kernel.runtime_config (
  module      text        not null check (module ~ '^[a-z][a-z0-9_]{1,30}$'),
  key         text        not null check (key ~ '^[a-z][a-z0-9.-]{0,62}$'),
  version     int         not null check (version >= 1),
  value       jsonb       not null check (octet_length(value::text) <= 8192),
  changed_by  text        not null check (length(changed_by) between 1 and 200),
  reason      text        not null check (length(reason) between 3 and 500),
  changed_at  timestamptz not null default clock_timestamp(),
  audit_id    uuid,
  primary key (module, key, version)
);

create function kernel.runtime_config_refuse_change() returns trigger language plpgsql as $$
begin
  raise exception 'kernel.runtime_config is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
end;
$$;
create trigger runtime_config_no_update_delete before update or delete on kernel.runtime_config
  for each row execute function kernel.runtime_config_refuse_change();
create trigger runtime_config_no_truncate before truncate on kernel.runtime_config
  for each statement execute function kernel.runtime_config_refuse_change();
