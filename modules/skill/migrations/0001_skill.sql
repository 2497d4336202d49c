-- The skill module (ADR 0013): question bank, skill tests per competition, attempts and pass
-- tokens, pass-rate statistics and alerts, spot-the-ball placements and judging.

-- Question bank. A question is a line of versions; entrants only ever get the active version, which
-- a second operator approved. Editing adds a version that needs approval again.
create table skill.questions (
  id                uuid        primary key,
  created_by        text        not null,
  created_at        timestamptz not null default clock_timestamp(),
  latest_version    int         not null default 0,
  active_version_id uuid,
  retired_at        timestamptz,
  retired_by        text,
  retire_reason     text check (length(retire_reason) <= 500)
);

create table skill.question_versions (
  id                uuid        primary key,
  question_id       uuid        not null references skill.questions (id),
  version           int         not null check (version >= 1),
  text              text        not null check (length(text) between 5 and 500),
  -- [{ "id": "a", "text": "…" }, …] with ids a..f in order; 3 to 6 options.
  options           jsonb       not null check (jsonb_typeof(options) = 'array' and jsonb_array_length(options) between 3 and 6),
  correct_option_id text        not null check (correct_option_id ~ '^[a-f]$'),
  category          text        not null check (category ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
  difficulty        text        not null check (difficulty in ('easy', 'medium', 'hard')),
  state             text        not null check (state in ('pending', 'approved', 'rejected', 'superseded', 'suspended')),
  authored_by       text        not null,
  authored_at       timestamptz not null default clock_timestamp(),
  decided_by        text,
  decided_at        timestamptz,
  decision_reason   text check (length(decision_reason) <= 500),
  suspended_at      timestamptz,
  -- Set once, by the first answer that takes the pass rate over the threshold.
  alerted_at        timestamptz,
  unique (question_id, version),
  -- Four eyes: nobody decides on a version they wrote.
  check (decided_by is null or decided_by <> authored_by)
);
create index question_versions_category on skill.question_versions (category, state);
alter table skill.questions add foreign key (active_version_id) references skill.question_versions (id);

-- Answer statistics per question version, sharded so that answers to one popular question do not
-- queue on one row; read as the sum of the shards.
create table skill.question_stats (
  version_id        uuid     not null references skill.question_versions (id),
  shard             smallint not null check (shard between 0 and 15),
  answers           bigint   not null default 0,
  passes            bigint   not null default 0,
  first_try_answers bigint   not null default 0,
  first_try_passes  bigint   not null default 0,
  primary key (version_id, shard)
);

create table skill.pass_rate_alerts (
  id              uuid        primary key,
  question_id     uuid        not null references skill.questions (id),
  version_id      uuid        not null unique references skill.question_versions (id),
  answers         bigint      not null,
  passes          bigint      not null,
  pass_rate_bp    int         not null check (pass_rate_bp between 0 and 10000),
  max_pass_rate_bp int        not null,
  min_answers     int         not null,
  suspended       boolean     not null,
  raised_at       timestamptz not null default clock_timestamp()
);
create index pass_rate_alerts_raised on skill.pass_rate_alerts (raised_at desc, id desc);

-- Spot-the-ball images: the bytes are in the object store, addressed and checked by SHA-256.
create table skill.images (
  id           uuid        primary key,
  sha256       text        not null check (sha256 ~ '^[0-9a-f]{64}$'),
  object_key   text        not null,
  content_type text        not null check (content_type in ('image/png', 'image/jpeg')),
  size_bytes   int         not null check (size_bytes > 0),
  width        int         not null check (width between 1 and 10000),
  height       int         not null check (height between 1 and 10000),
  uploaded_by  text        not null,
  uploaded_at  timestamptz not null default clock_timestamp()
);

-- The skill test of a competition (one per competition; competition ids are ticketing's).
create table skill.tests (
  id                     uuid        primary key,
  competition_id         uuid        not null unique,
  kind                   text        not null check (kind in ('multiple-choice', 'spot-the-ball')),
  question_ids           uuid[],
  category               text,
  postal_version_id      uuid references skill.question_versions (id),
  image_id               uuid references skill.images (id),
  max_placements_per_token int check (max_placements_per_token between 1 and 100),
  revision               int         not null default 1,
  configured_by          text        not null,
  configured_at          timestamptz not null default clock_timestamp(),
  -- Set when the competition is published: the test can no longer change.
  frozen_at              timestamptz,
  check ((kind = 'multiple-choice') = (image_id is null)),
  check (kind <> 'multiple-choice' or (question_ids is not null) <> (category is not null)),
  check (kind <> 'spot-the-ball' or (max_placements_per_token is not null and question_ids is null and category is null and postal_version_id is null))
);

-- What skill knows of each competition, from ticketing's events (a read model).
create table skill.competitions (
  competition_id uuid        primary key,
  state          text        not null check (state in ('scheduled', 'open', 'closed', 'cancelled')),
  closes_at      timestamptz,
  draw_kind      text,
  winners        int         not null default 1 check (winners between 1 and 1000),
  closed_at      timestamptz,
  sold           int,
  voided         int,
  cancel_reason  text,
  updated_at     timestamptz not null default clock_timestamp()
);

-- One row per entrant and competition: the lock that serialises their attempts (limits), and
-- the question they last failed (not drawn again next time when another is available).
create table skill.entrants (
  player_id              text not null,
  competition_id         uuid not null,
  attempts               int  not null default 0,
  last_failed_version_id uuid,
  primary key (player_id, competition_id)
);

create table skill.attempts (
  id                  uuid        primary key,
  test_id             uuid        not null references skill.tests (id),
  competition_id      uuid        not null,
  player_id           text        not null,
  kind                text        not null,
  attempt_no          int         not null check (attempt_no >= 1),
  question_version_id uuid references skill.question_versions (id),
  state               text        not null check (state in ('open', 'passed', 'failed', 'expired')),
  started_at          timestamptz not null,
  expires_at          timestamptz not null,
  answered_at         timestamptz,
  option_id           text,
  token_id            uuid unique,
  token_expires_at    timestamptz,
  placements          int,
  token_used_at       timestamptz,
  purchase_id         text,
  check ((state = 'passed') = (token_id is not null))
);
create index attempts_entrant on skill.attempts (player_id, competition_id, started_at desc);

-- Spot-the-ball placements. `seq` is the published tie-break order: it is drawn from one sequence
-- in the answering transaction, so earlier answers have lower numbers.
create table skill.placements (
  seq            bigint generated always as identity primary key,
  attempt_id     uuid        not null references skill.attempts (id),
  competition_id uuid        not null,
  idx            smallint    not null,
  x              int         not null check (x >= 0),
  y              int         not null check (y >= 0),
  placed_at      timestamptz not null,
  ticket_id      uuid unique,
  ticket_number  bigint,
  unique (attempt_id, idx)
);
create index placements_competition on skill.placements (competition_id) where ticket_id is not null;

-- Tickets of spot-the-ball competitions as ticketing announced them, and the ones voided since
-- (kept apart: a void may arrive before the purchase it voids).
create table skill.tickets (
  ticket_id      uuid        primary key,
  competition_id uuid        not null,
  number         bigint      not null,
  purchase_id    text        not null,
  recorded_at    timestamptz not null default clock_timestamp()
);
create index tickets_competition on skill.tickets (competition_id);

create table skill.voided_tickets (
  ticket_id      uuid        primary key,
  competition_id uuid        not null,
  reason         text        not null,
  voided_at      timestamptz not null default clock_timestamp()
);

-- Spot-the-ball judging: each judge's point (round 3 only when the first two disagree), then the result.
create table skill.judgements (
  competition_id uuid        not null,
  round          smallint    not null check (round between 1 and 3),
  judge          text        not null,
  x              int         not null check (x >= 0),
  y              int         not null check (y >= 0),
  recorded_at    timestamptz not null default clock_timestamp(),
  primary key (competition_id, round),
  unique (competition_id, judge)
);

create table skill.judging_results (
  competition_id uuid        primary key,
  judged_x       int         not null,
  judged_y       int         not null,
  method         text        not null check (method in ('midpoint', 'median-of-three')),
  image_sha256   text        not null,
  entries        int         not null,
  ranking_hash   text        not null check (ranking_hash ~ '^[0-9a-f]{64}$'),
  winners        jsonb       not null,
  audit_id       uuid        not null,
  judged_at      timestamptz not null default clock_timestamp()
);

create table skill.judging_ranking (
  competition_id uuid   not null,
  rank           int    not null check (rank >= 1),
  ticket_id      uuid   not null,
  ticket_number  bigint not null,
  placement_seq  bigint not null,
  x              int    not null,
  y              int    not null,
  distance_sq    bigint not null,
  primary key (competition_id, rank)
);
