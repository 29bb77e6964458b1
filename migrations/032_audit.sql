-- The audit store (issue "Audit: every access leaves evidence"; patterns §3): FHIR AuditEvents shaped
-- after IHE BALP, appended in the request's transaction through one SECURITY DEFINER function.
-- Append-only in the database: request roles have no table privilege; UPDATE, DELETE and TRUNCATE
-- are refused by triggers even for the owner (DELETE only of an archived, anchored chain prefix).
-- Tamper evidence: each event carries sha256(prev_hash || its hash line); the line is built from
-- columns only (recorded printed in UTC), so it never depends on the session's TimeZone or DateStyle.
-- Chains are per (tenant, stripe): an append takes any free stripe head (FOR UPDATE SKIP LOCKED), so
-- concurrent requests do not queue behind one lock held until COMMIT (§3.2 pitfall 16) and their
-- commits can share a WAL flush (group commit).

create schema if not exists audit;
revoke all on schema audit from public;

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'fhirgate_audit_writer') then
    begin
      create role fhirgate_audit_writer nologin nosuperuser nocreatedb nocreaterole noinherit nobypassrls;
    exception when duplicate_object or unique_violation then null;
    end;
  end if;
  execute format('grant fhirgate_audit_writer to %I', current_user);
end $$;

create table audit.event (
  tenant    text not null,
  stripe    smallint not null,
  pos       bigint not null,        -- contiguous per (tenant, stripe), from 1
  id        text not null,          -- AuditEvent.id
  recorded  timestamptz not null,   -- AuditEvent.recorded
  type      text not null,          -- AuditEvent.type code (rest, 110114 …)
  subtype   text not null,          -- AuditEvent.subtype code (read, search-type, …) or ''
  action    text not null,          -- C R U D E
  outcome   smallint not null,      -- 0 4 8 12
  agent     text not null,          -- the requestor: fhirUser reference, else user id, else client id
  patient   text not null,          -- 'Patient/<id>' of entity[patient], or ''
  entity    text not null,          -- the data entity, 'Type/id' (unversioned), or ''
  content   text not null,          -- the AuditEvent JSON (canonical), served as stored
  prev_hash bytea not null,
  hash      bytea not null,
  primary key (tenant, stripe, pos)
);
-- The auditor's questions: who touched this patient (and when), this resource, what did this user do.
create index event_patient on audit.event (tenant, patient, recorded) where patient <> '';
create index event_entity on audit.event (tenant, entity, recorded) where entity <> '';
create index event_agent on audit.event (tenant, agent, recorded);
create index event_recorded on audit.event (tenant, recorded);
create unique index event_id on audit.event (tenant, id);

create table audit.chain_head (
  tenant text not null,
  stripe smallint not null,
  pos    bigint not null,
  hash   bytea not null,
  primary key (tenant, stripe)
);

-- Signed chain heads (Ed25519, key outside the database). A copy of each goes to DATA_DIR as well.
create table audit.checkpoint (
  tenant    text not null,
  created   timestamptz not null default clock_timestamp(),
  payload   text not null,          -- canonical JSON {tenant, at, heads:[{stripe,pos,hash}]}
  key_id    text not null,
  signature text not null,          -- base64 Ed25519 over payload
  primary key (tenant, created, key_id)
);

-- Where a stripe's hot chain starts after archival: the signed hash of its last archived event.
create table audit.anchor (
  tenant      text not null,
  stripe      smallint not null,
  pos         bigint not null,
  hash        bytea not null,
  payload     text not null,        -- canonical JSON {tenant, stripe, pos, hash, file, sha256, events, at}
  key_id      text not null,
  signature   text not null,
  archived_at timestamptz not null default clock_timestamp(),
  primary key (tenant, stripe, pos)
);

-- Append-only, enforced for everyone who is not bypassing triggers (the owner included).
create function audit.refuse() returns trigger language plpgsql as $$
begin
  raise exception 'audit: % on %.% is not allowed (append-only)', tg_op, tg_table_schema, tg_table_name using errcode = '42501';
end $$;

-- A DELETE of an event is allowed only at or below the stripe's newest anchor, i.e. archived and verified.
create function audit.refuse_unarchived_delete() returns trigger language plpgsql as $$
begin
  if current_setting('fhirgate.audit_archiving', true) = 'on' and exists (
       select 1 from audit.anchor a where a.tenant = old.tenant and a.stripe = old.stripe and a.pos >= old.pos) then
    return old;
  end if;
  raise exception 'audit: DELETE of an event that is not archived is not allowed (append-only)' using errcode = '42501';
end $$;

-- chain_head moves forward only.
create function audit.head_forward() returns trigger language plpgsql as $$
begin
  if new.tenant <> old.tenant or new.stripe <> old.stripe or new.pos <= old.pos then
    raise exception 'audit: a chain head only moves forward' using errcode = '42501';
  end if;
  return new;
end $$;

create trigger event_no_update before update on audit.event for each row execute function audit.refuse();
create trigger event_no_delete before delete on audit.event for each row execute function audit.refuse_unarchived_delete();
create trigger event_no_truncate before truncate on audit.event for each statement execute function audit.refuse();
create trigger head_forward before update on audit.chain_head for each row execute function audit.head_forward();
create trigger head_no_delete before delete on audit.chain_head for each row execute function audit.refuse();
create trigger head_no_truncate before truncate on audit.chain_head for each statement execute function audit.refuse();
create trigger checkpoint_no_change before update or delete on audit.checkpoint for each row execute function audit.refuse();
create trigger checkpoint_no_truncate before truncate on audit.checkpoint for each statement execute function audit.refuse();
create trigger anchor_no_change before update or delete on audit.anchor for each row execute function audit.refuse();
create trigger anchor_no_truncate before truncate on audit.anchor for each statement execute function audit.refuse();

-- RLS: tenant wall for everyone; the auditor reads; the writer appends and moves heads.
do $$
declare t text;
begin
  foreach t in array array['event', 'chain_head', 'checkpoint', 'anchor'] loop
    execute format('alter table audit.%I enable row level security', t);
    execute format('alter table audit.%I force row level security', t);
    execute format('create policy fg_tenant_wall on audit.%I as restrictive for all to public
      using (tenant = (select ctx.tenant())) with check (tenant = (select ctx.tenant()))', t);
    execute format('create policy fg_auditor_select on audit.%I for select to fhirgate_auditor using (true)', t);
    execute format('create policy fg_writer_select on audit.%I for select to fhirgate_audit_writer using (true)', t);
    execute format('create policy fg_writer_insert on audit.%I for insert to fhirgate_audit_writer with check (true)', t);
  end loop;
end $$;
create policy fg_writer_update on audit.chain_head for update to fhirgate_audit_writer using (true) with check (true);
create policy fg_writer_delete on audit.event for delete to fhirgate_audit_writer using (true);

revoke all on all tables in schema audit from public;
grant usage on schema audit to fhirgate_clinician, fhirgate_patient, fhirgate_researcher, fhirgate_auditor, fhirgate_admin, fhirgate_system, fhirgate_audit_writer;
grant usage on schema ctx to fhirgate_audit_writer;
grant select on audit.event, audit.chain_head, audit.checkpoint, audit.anchor to fhirgate_auditor;
grant select, insert on audit.event, audit.chain_head, audit.checkpoint, audit.anchor to fhirgate_audit_writer;
grant update on audit.chain_head to fhirgate_audit_writer;
grant delete on audit.event to fhirgate_audit_writer;

-- The hash line of an event: fields joined by LF (none of them may contain one; content is last).
create function audit.hash_line(p_tenant text, p_stripe smallint, p_pos bigint, p_id text, p_recorded timestamptz,
  p_type text, p_subtype text, p_action text, p_outcome smallint, p_agent text, p_patient text, p_entity text, p_content text) returns text
language sql stable parallel safe as $$
  select concat_ws(E'\n', p_tenant, p_stripe::text, p_pos::text, p_id,
    to_char(p_recorded at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    p_type, p_subtype, p_action, p_outcome::text, p_agent, p_patient, p_entity, p_content)
$$;

-- Appends the request's events (a JSON array of {id, recorded, type, subtype, action, outcome, agent,
-- patient, entity, content}) to one chain of the caller's tenant. Call it last in the transaction.
create function audit.append(p_events jsonb) returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp set timezone = 'UTC' as $$
declare
  t text := ctx.tenant();
  stripes constant integer := 16;
  start integer := pg_backend_pid() % stripes;
  h record;
  e record;
  p bigint;
  prev bytea;
  cur bytea;
  n integer := 0;
begin
  if t is null then raise exception 'audit.append: no tenant in context' using errcode = '42501'; end if;
  if p_events is null or jsonb_typeof(p_events) <> 'array' or jsonb_array_length(p_events) = 0 then return 0; end if;
  select c.stripe, c.pos, c.hash into h from audit.chain_head c where c.tenant = t
    order by (c.stripe + stripes - start) % stripes for update skip locked limit 1;
  if not found then
    insert into audit.chain_head (tenant, stripe, pos, hash)
      select t, s, 0, decode(repeat('00', 32), 'hex') from generate_series(0, stripes - 1) s on conflict do nothing;
    select c.stripe, c.pos, c.hash into h from audit.chain_head c where c.tenant = t
      order by (c.stripe + stripes - start) % stripes for update skip locked limit 1;
    if not found then  -- every stripe busy: wait for ours
      select c.stripe, c.pos, c.hash into h from audit.chain_head c where c.tenant = t and c.stripe = start for update;
    end if;
  end if;
  p := h.pos;
  prev := h.hash;
  for e in select * from jsonb_to_recordset(p_events) as x(id text, recorded timestamptz, type text, subtype text,
      action text, outcome smallint, agent text, patient text, entity text, content text) loop
    if e.id is null or e.recorded is null or e.content is null or e.action is null or e.outcome is null
       or strpos(concat(t, e.id, e.type, e.subtype, e.action, e.agent, e.patient, e.entity), E'\n') > 0 then
      raise exception 'audit.append: malformed event' using errcode = '22023';
    end if;
    p := p + 1;
    cur := sha256(prev || convert_to(audit.hash_line(t, h.stripe, p, e.id, e.recorded, coalesce(e.type, ''), coalesce(e.subtype, ''),
      e.action, e.outcome, coalesce(e.agent, ''), coalesce(e.patient, ''), coalesce(e.entity, ''), e.content), 'UTF8'));
    insert into audit.event (tenant, stripe, pos, id, recorded, type, subtype, action, outcome, agent, patient, entity, content, prev_hash, hash)
    values (t, h.stripe, p, e.id, e.recorded, coalesce(e.type, ''), coalesce(e.subtype, ''), e.action, e.outcome,
      coalesce(e.agent, ''), coalesce(e.patient, ''), coalesce(e.entity, ''), e.content, prev, cur);
    prev := cur;
    n := n + 1;
  end loop;
  update audit.chain_head set pos = p, hash = prev where tenant = t and stripe = h.stripe;
  return n;
end $$;

-- Stores a signed checkpoint of the caller's tenant (the signature is checked by `audit verify`).
create function audit.add_checkpoint(p_payload text, p_key_id text, p_signature text) returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare t text := ctx.tenant();
begin
  if t is null then raise exception 'audit.add_checkpoint: no tenant in context' using errcode = '42501'; end if;
  insert into audit.checkpoint (tenant, payload, key_id, signature) values (t, p_payload, p_key_id, p_signature);
end $$;

-- Archival: records the signed anchor of a stripe's exported, verified prefix and removes that prefix
-- from the hot store. Refused unless the event at p_pos has exactly the anchored hash.
create function audit.archive(p_stripe smallint, p_pos bigint, p_hash bytea, p_payload text, p_key_id text, p_signature text) returns bigint
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  t text := ctx.tenant();
  removed bigint;
begin
  if t is null then raise exception 'audit.archive: no tenant in context' using errcode = '42501'; end if;
  if not exists (select 1 from audit.event where tenant = t and stripe = p_stripe and pos = p_pos and hash = p_hash) then
    raise exception 'audit.archive: no event with that hash at stripe % pos %', p_stripe, p_pos using errcode = '22023';
  end if;
  insert into audit.anchor (tenant, stripe, pos, hash, payload, key_id, signature) values (t, p_stripe, p_pos, p_hash, p_payload, p_key_id, p_signature);
  perform set_config('fhirgate.audit_archiving', 'on', true);
  delete from audit.event where tenant = t and stripe = p_stripe and pos <= p_pos;
  get diagnostics removed = row_count;
  perform set_config('fhirgate.audit_archiving', '', true);
  return removed;
end $$;

grant create on schema audit to fhirgate_audit_writer;
alter function audit.append(jsonb) owner to fhirgate_audit_writer;
alter function audit.add_checkpoint(text, text, text) owner to fhirgate_audit_writer;
alter function audit.archive(smallint, bigint, bytea, text, text, text) owner to fhirgate_audit_writer;
revoke create on schema audit from fhirgate_audit_writer;
revoke all on function audit.append(jsonb), audit.add_checkpoint(text, text, text), audit.archive(smallint, bigint, bytea, text, text, text),
  audit.refuse(), audit.refuse_unarchived_delete(), audit.head_forward() from public;
-- Every request role appends (every access is audited, refusals included); nobody else writes.
grant execute on function audit.append(jsonb) to fhirgate_clinician, fhirgate_patient, fhirgate_researcher, fhirgate_auditor, fhirgate_admin, fhirgate_system;
-- Checkpoints are signed by the server's maintenance job acting as the auditor role.
grant execute on function audit.add_checkpoint(text, text, text) to fhirgate_auditor;
-- Archival is maintenance by the migrating (connecting) role only; no request role may run it.
do $$ begin execute format('grant execute on function audit.archive(smallint, bigint, bytea, text, text, text) to %I', current_user); end $$;
