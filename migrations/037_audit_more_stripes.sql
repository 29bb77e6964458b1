-- 64 audit chains per tenant instead of 16 (issue "Compliance": reads with audit at 32 clients). A request
-- holds its chain's head from the append until its COMMIT, which waits for the WAL flush; with 32
-- concurrent requests and 16 heads, appends found every head taken and queued on a row lock, so the
-- chain, not the work, set the pace. Events keep their (stripe, pos) and verification follows every
-- stripe that has events (src/store/audit-read.ts), so existing chains simply continue. A tenant's new heads
-- are created by the append itself the first time it finds every existing head taken (as for a new tenant),
-- under the tenant's own context, so this migration needs no privilege on the audit tables' rows.

create or replace function audit.append(p_events jsonb) returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp set timezone = 'UTC' as $$
declare
  t text := ctx.tenant();
  stripes constant integer := 64;
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
