-- KYC: one application per player, its vendor checks (one per attempt), every status change,
-- uploaded documents (bytes in the object store, encrypted), and the vendor webhook dedupe rows.
-- No personal data is kept here: names and dates of birth stay in identity (encrypted) and are
-- fetched when a check starts; documents are ciphertext in the object store.

create table kyc.applications (
  id uuid primary key,
  player_id uuid not null unique,
  status text not null default 'not_started'
    check (status in ('not_started', 'pending', 'approved', 'rejected_final', 'resubmit', 'manual_review', 'expired')),
  -- Stable code of why the status is what it is (under-age, identity-not-confirmed, operator-approved…).
  reason text check (reason is null or length(reason) <= 100),
  age_verified boolean not null default false,
  attempt integer not null default 0 check (attempt >= 0),
  current_check_id uuid,
  vendor text,
  vendor_applicant_id text check (vendor_applicant_id is null or length(vendor_applicant_id) <= 200),
  -- The compliance case of the current manual review (when the compliance module runs).
  review_case_id text check (review_case_id is null or length(review_case_id) <= 200),
  review_queued_at timestamptz,
  opened_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  decided_at timestamptz
);
create index applications_review_queue on kyc.applications (review_queued_at, id) where status = 'manual_review';

create table kyc.checks (
  id uuid primary key,
  application_id uuid not null references kyc.applications (id),
  attempt integer not null check (attempt >= 1),
  vendor text not null check (length(vendor) <= 40),
  vendor_check_id text check (vendor_check_id is null or length(vendor_check_id) <= 200),
  status text not null default 'pending'
    check (status in ('pending', 'approved', 'rejected_final', 'resubmit', 'manual_review', 'expired')),
  vendor_status text check (vendor_status is null or length(vendor_status) <= 60),
  reasons text[] not null default '{}' check (cardinality(reasons) <= 20),
  verification_url text check (verification_url is null or length(verification_url) <= 2000),
  started_at timestamptz not null default now(),
  deadline_at timestamptz not null,
  completed_at timestamptz,
  unique (application_id, attempt),
  unique (vendor, vendor_check_id)
);
alter table kyc.applications add constraint applications_current_check_fk foreign key (current_check_id) references kyc.checks (id);

create table kyc.status_history (
  id bigint generated always as identity primary key,
  application_id uuid not null references kyc.applications (id),
  from_status text not null,
  to_status text not null,
  reason text,
  -- `player:<id>`, `operator:<id>`, `vendor:<name>`, `system`
  actor text not null check (length(actor) <= 120),
  check_id uuid references kyc.checks (id),
  -- An operator's written reason for a decision.
  note text check (note is null or length(note) <= 2000),
  at timestamptz not null default now()
);
create index status_history_application on kyc.status_history (application_id, id);

create table kyc.documents (
  id uuid primary key,
  player_id uuid not null,
  application_id uuid not null references kyc.applications (id),
  type text not null check (type in ('passport', 'driving_licence', 'national_id', 'proof_of_address')),
  content_type text not null check (content_type in ('image/jpeg', 'image/png', 'application/pdf')),
  size_bytes integer not null check (size_bytes > 0),
  -- SHA-256 of the document as uploaded, and of the encrypted object that holds it (its store key).
  sha256 char(64) not null,
  object_key char(64) not null,
  uploaded_at timestamptz not null default now()
);
create index documents_player on kyc.documents (player_id, uploaded_at);

create table kyc.webhook_events (
  provider text not null,
  event_id text not null check (length(event_id) <= 255),
  vendor_check_id text,
  outcome text,
  received_at timestamptz not null default now(),
  primary key (provider, event_id)
);
create index webhook_events_received on kyc.webhook_events (received_at);
