-- Ended sign-ins (logout, disabled account, password reset…) whose access tokens may still be
-- unexpired. Every process's guards refuse a token whose session (`sid`) is listed here; rows are
-- kept until every access token of that session has expired. Identity writes them in the same
-- transaction as the session's end; the trigger tells every process at commit.
create table kernel.revoked_sessions (
  session_id  text primary key,
  revoked_at  timestamptz not null default now(),
  expires_at  timestamptz not null
);
create index revoked_sessions_expiry on kernel.revoked_sessions (expires_at);

create function kernel.notify_session_revoked() returns trigger language plpgsql as $$
begin
  perform pg_notify('verity_session_revoked', new.session_id);
  return new;
end $$;

create trigger revoked_sessions_notify after insert on kernel.revoked_sessions
  for each row execute function kernel.notify_session_revoked();
