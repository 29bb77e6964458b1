-- audit.append, cheaper for the common case (issue "Compliance": reads with audit). Almost every request
-- appends one event. Profiled under 16 clients (perf, PostgreSQL 17), the PL/pgSQL body took half of the
-- database's time for an audited read: each of its statements (find a free head, the loop over
-- jsonb_to_recordset, the INSERT, the head UPDATE, two assignments through SQL) paid its own executor
-- start-up and permission checks, and finding a head scanned and sorted every head row of the tenant.
-- Measured by pgbench (PostgreSQL CPU per audited read, 16 clients, pipelined): the same event inserted
-- with no chain at all costs 460 µs, 037's append 620 µs, this one 540 µs.
-- Now one event is chained by ONE statement: the head row of a stripe this transaction holds an advisory
-- lock on (in memory, no WAL; stripes busy in other transactions are skipped, as SKIP LOCKED did) is
-- UPDATEd to the new position and hash computed from its old values, and the event is inserted from what
-- the UPDATE returns. The head keeps the previous hash (`prev_hash`) so the UPDATE can return it. A concurrent
-- writer that holds the same head row anyway (037's general path) only makes the UPDATE wait: under READ
-- COMMITTED it then recomputes from the committed head, so the chain stays gap-free. Several events, or every
-- stripe busy, take the general path: 037's function itself, kept as audit.append_chained and callable
-- only by its owner (this function). The hash line is the same (033), so `audit verify` is unchanged.

alter table audit.chain_head add column if not exists prev_hash bytea;

alter function audit.append(jsonb) rename to append_chained;
revoke all on function audit.append_chained(jsonb) from public, fhirgate_clinician, fhirgate_patient, fhirgate_researcher,
  fhirgate_auditor, fhirgate_admin, fhirgate_system;

create function audit.append(p_events jsonb) returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp set timezone = 'UTC' as $$
declare
  t text := ctx.tenant();
  stripes constant integer := 64;
  start integer := pg_backend_pid() % stripes;
  one jsonb;
  lane integer;
  k integer;
  attempt integer;
begin
  if t is null then raise exception 'audit.append: no tenant in context' using errcode = '42501'; end if;
  if p_events is null or jsonb_typeof(p_events) <> 'array' or jsonb_array_length(p_events) = 0 then return 0; end if;

  if jsonb_array_length(p_events) = 1 then
    one := p_events -> 0;
    if jsonb_typeof(one) <> 'object' or one ->> 'id' is null or one ->> 'recorded' is null or one ->> 'content' is null
       or one ->> 'action' is null or one ->> 'outcome' is null
       or strpos(concat(t, one ->> 'id', one ->> 'type', one ->> 'subtype', one ->> 'action', one ->> 'agent', one ->> 'patient', one ->> 'entity'), E'\n') > 0 then
      raise exception 'audit.append: malformed event' using errcode = '22023';
    end if;
    lane := start;
    for k in 0 .. stripes - 1 loop
      lane := (start + k) % stripes;
      exit when pg_try_advisory_xact_lock(hashtext('fhirgate.audit ' || t), lane);
      lane := null;
    end loop;
    -- Twice at most: a tenant whose heads were made by 032 has 16, not 64; the first miss makes the rest.
    for attempt in 1 .. case when lane is null then 0 else 2 end loop
      with ev as materialized (
        select x.id, x.recorded, coalesce(x.type, '') as type, coalesce(x.subtype, '') as subtype, x.action, x.outcome,
          coalesce(x.agent, '') as agent, coalesce(x.patient, '') as patient, coalesce(x.entity, '') as entity, x.content
        from jsonb_to_record(one) as x(id text, recorded timestamptz, type text, subtype text, action text, outcome smallint,
          agent text, patient text, entity text, content text)
      ), head as (
        update audit.chain_head c set prev_hash = c.hash, pos = c.pos + 1,
          hash = sha256(c.hash || convert_to(audit.hash_line(t, c.stripe, c.pos + 1, ev.id, ev.recorded, ev.type, ev.subtype, ev.action,
            ev.outcome, ev.agent, ev.patient, ev.entity, ev.content), 'UTF8'))
        from ev where c.tenant = t and c.stripe = lane
        returning c.stripe, c.pos, c.prev_hash, c.hash
      )
      insert into audit.event (tenant, stripe, pos, id, recorded, type, subtype, action, outcome, agent, patient, entity, content, prev_hash, hash)
      select t, head.stripe, head.pos, ev.id, ev.recorded, ev.type, ev.subtype, ev.action, ev.outcome, ev.agent, ev.patient, ev.entity,
        ev.content, head.prev_hash, head.hash
      from head, ev;
      if found then return 1; end if;
      insert into audit.chain_head (tenant, stripe, pos, hash)
        select t, x, 0, decode(repeat('00', 32), 'hex') from generate_series(0, stripes - 1) x on conflict do nothing;
    end loop;
  end if;

  return audit.append_chained(p_events);
end $$;

grant create on schema audit to fhirgate_audit_writer;
alter function audit.append(jsonb) owner to fhirgate_audit_writer;
revoke create on schema audit from fhirgate_audit_writer;
revoke all on function audit.append(jsonb) from public;
grant execute on function audit.append(jsonb) to fhirgate_clinician, fhirgate_patient, fhirgate_researcher, fhirgate_auditor, fhirgate_admin, fhirgate_system;

-- The head only moves forward (032's head_forward), now checked in the trigger's WHEN clause: the
-- PL/pgSQL function runs only to refuse a backward or sideways move, not on every append.
drop trigger head_forward on audit.chain_head;
create trigger head_forward before update on audit.chain_head for each row
  when (new.tenant <> old.tenant or new.stripe <> old.stripe or new.pos <= old.pos)
  execute function audit.head_forward();
