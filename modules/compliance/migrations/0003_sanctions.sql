-- Sanctions screening (helper "aml-sanctions", ADR 0011): list versions and their entries, names
-- with retrieval keys for candidate search, screenings (each decision with its algorithm version),
-- the latest result per player, and re-screening runs after a list changes.

-- Every import of a list is a version; an import with the same bytes as the current version of its
-- source is not (nothing changed, nobody needs re-screening).
create table compliance.sanctions_lists (
  id               uuid        primary key,
  source           text        not null check (source in ('ofsi', 'ofac-sdn')),
  version          integer     not null check (version > 0),
  format           text        not null check (format in ('ofsi', 'ofac-sdn-xml', 'ofac-sdn-csv')),
  origin           text        not null check (origin in ('upload', 'download')),
  content_sha256   text        not null check (content_sha256 ~ '^[0-9a-f]{64}$'),
  published_at     text        check (length(published_at) <= 40),
  entry_count      integer     not null check (entry_count >= 0),
  name_count       integer     not null check (name_count >= 0),
  imported_by      text        not null check (length(imported_by) <= 200),
  imported_at      timestamptz not null default clock_timestamp(),
  unique (source, version)
);

create table compliance.sanctions_entries (
  id               uuid        primary key,
  list_id          uuid        not null references compliance.sanctions_lists (id),
  list_ref         text        not null check (length(list_ref) between 1 and 64),
  entity_type      text        not null check (entity_type in ('individual', 'entity', 'vessel', 'aircraft')),
  primary_name     text        not null check (length(primary_name) between 1 and 500),
  programs         text[]      not null default '{}',
  dates_of_birth   text[]      not null default '{}',
  countries        text[]      not null default '{}',
  details          jsonb       not null default '{}',
  unique (list_id, list_ref)
);

-- One row per listed name (primary, aliases, non-Latin spellings). `keys` are the retrieval keys
-- (phonetic codes, tokens, prefixes): a screening fetches the names sharing a key with the query.
create table compliance.sanctions_names (
  id               bigint      generated always as identity primary key,
  entry_id         uuid        not null references compliance.sanctions_entries (id),
  list_id          uuid        not null references compliance.sanctions_lists (id),
  name             text        not null check (length(name) between 1 and 500),
  normalized       text        not null check (length(normalized) <= 500),
  kind             text        not null check (kind in ('primary', 'alias', 'weak-alias')),
  keys             text[]      not null
);
create index sanctions_names_keys on compliance.sanctions_names using gin (keys);
create index sanctions_names_list on compliance.sanctions_names (list_id);
create index sanctions_names_entry on compliance.sanctions_names (entry_id);

-- One screening = one decision: the lists it ran against, the algorithm version and thresholds,
-- the matches it found. The query itself is stored only as a keyed hash (no personal data).
create table compliance.sanctions_screenings (
  id                uuid        primary key,
  player_id         text        check (length(player_id) between 1 and 64),
  trigger           text        not null check (trigger in ('registration', 'payout', 'list-change', 'operator')),
  query_hash        text        not null check (length(query_hash) <= 128),
  algorithm_version text        not null check (length(algorithm_version) <= 64),
  hit_threshold     numeric(4,3) not null,
  candidate_cutoff  numeric(4,3) not null,
  list_ids          uuid[]      not null,
  outcome           text        not null check (outcome in ('clear', 'candidates', 'hit')),
  best_score        numeric(4,3),
  matches           jsonb       not null,
  case_id           text        check (length(case_id) <= 64),
  actor             text        not null check (length(actor) <= 200),
  screened_at       timestamptz not null default clock_timestamp()
);
create index sanctions_screenings_player on compliance.sanctions_screenings (player_id, screened_at desc) where player_id is not null;
create index sanctions_screenings_recent on compliance.sanctions_screenings (screened_at desc, id desc);

-- The latest screening of each player (the re-screening job walks this table).
create table compliance.sanctions_player_status (
  player_id         text        primary key check (length(player_id) between 1 and 64),
  screening_id      uuid        not null references compliance.sanctions_screenings (id),
  outcome           text        not null check (outcome in ('clear', 'candidates', 'hit')),
  best_score        numeric(4,3),
  algorithm_version text        not null,
  list_ids          uuid[]      not null,
  screened_at       timestamptz not null
);

-- Re-screening every player after a list changed: batches chained by jobs, resumable at `cursor`.
create table compliance.sanctions_rescreen_runs (
  id                uuid        primary key,
  list_id           uuid        not null references compliance.sanctions_lists (id),
  status            text        not null check (status in ('running', 'finished', 'superseded')),
  cursor            text,
  screened          integer     not null default 0,
  hits              integer     not null default 0,
  failed            integer     not null default 0,
  started_at        timestamptz not null default clock_timestamp(),
  finished_at       timestamptz
);
create index sanctions_rescreen_runs_running on compliance.sanctions_rescreen_runs (started_at) where status = 'running';
