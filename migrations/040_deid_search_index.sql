-- Search over the de-identified copy (issue "Compliance": researchers search through the normal search API
-- and never touch schema fhir; rls-audit-deid-patterns.md §0.4 and §4 "researcher: SELECT only on deid",
-- §2.1 policy skeleton, §2.5-11 "put RLS on … search-index tables too").
-- schema deid gets index tables of the same shape as fhir.sp_* (migrations 010–013), filled in the same
-- statement as the copy (deid.put_indexed) from the normal index extraction run on the DE-IDENTIFIED
-- resource (src/deid/copy.ts): only what the copy itself contains (years, ZIP3, pseudonymous references)
-- can ever be matched. The search compiler reads `<schema>.resource` and `<schema>.sp_*` (src/search).
--
-- Existing copies have no index rows after this migration (SQL cannot run the TypeScript extraction):
-- rebuild them per tenant with rebuildDeid(db, tenant, deidSettings()) (src/deid/copy.ts: the key-rotation
-- rebuild with the current key; idempotent, one transaction, also used after a $reindex).

-- The columns the compiler reads from a resource row. rid: its own sequence, never the identified row's
-- rid (nothing links a copy to fhir.resource). last_updated: only the YEAR of the source's lastUpdated
-- (1 January, UTC; Safe Harbor (C)), so _lastUpdated and _sort=_lastUpdated work at year precision.
-- deleted: always false (a delete removes the copy), so `not r.deleted` means the same on both sides.
create sequence deid.resource_rid_seq;
-- A volatile default: ADD COLUMN rewrites the table and numbers every existing row (no RLS involved).
alter table deid.resource add column rid bigint not null default nextval('deid.resource_rid_seq');
alter sequence deid.resource_rid_seq owned by deid.resource.rid;
alter table deid.resource add column last_updated timestamptz not null default '1970-01-01 00:00:00+00';
alter table deid.resource add column deleted boolean not null default false;
alter table deid.resource add constraint deid_resource_live check (not deleted);
create unique index deid_resource_rid on deid.resource (rid);
create index deid_resource_type_updated on deid.resource (tenant, type, last_updated);
grant usage on sequence deid.resource_rid_seq to fhirgate_deid_writer;

-- The index tables: fhir.sp_*'s columns, collations and indexes (not its trigger, which reads fhir.resource).
-- Row-level security as on deid.resource (031): the tenant wall, researchers read the types their user/ or
-- system/ scopes grant, the writer (owner of the functions below) maintains rows of the caller's tenant.
do $$
declare t text;
begin
  foreach t in array array['sp_token', 'sp_string', 'sp_reference', 'sp_date', 'sp_number', 'sp_composite'] loop
    execute format('create table deid.%I (like fhir.%I including all)', t, t);
    execute format('alter table deid.%I enable row level security', t);
    execute format('alter table deid.%I force row level security', t);
    execute format('create policy fg_tenant_wall on deid.%I as restrictive for all to public
      using (tenant = (select ctx.tenant())) with check (tenant = (select ctx.tenant()))', t);
    execute format('create policy fg_researcher_select on deid.%I for select to fhirgate_researcher
      using (type = any((select ctx.types(''rs'', ''{user,system}''))::text[]) or (select ''*'' = any(ctx.types(''rs'', ''{user,system}''))))', t);
    execute format('create policy fg_writer_all on deid.%I for all to fhirgate_deid_writer using (true) with check (true)', t);
    execute format('grant select on deid.%I to fhirgate_researcher', t);
    execute format('grant select, insert, delete on deid.%I to fhirgate_deid_writer', t);
  end loop;
end $$;

-- Index rows of copies that go (a delete, a key rotation, a replaced version). Only the writer runs it.
create function deid.index_delete(p_rids bigint[]) returns void language sql as $$
  delete from deid.sp_token where rid = any(p_rids);
  delete from deid.sp_string where rid = any(p_rids);
  delete from deid.sp_reference where rid = any(p_rids);
  delete from deid.sp_date where rid = any(p_rids);
  delete from deid.sp_number where rid = any(p_rids);
  delete from deid.sp_composite where rid = any(p_rids);
$$;

-- Upserts copies and replaces their index rows in one call (the REST path: one copy; transactions and the
-- importer: many). p_rows: JSON array of {i, type, id, version, compartments, content, key_id, last_updated,
-- qi_*} with i = 1..n and one row per (type, id). Index rows come as column arrays per table (hashes as
-- int4 halves, as src/store/search-index.ts sends them); `*_i` names the copy (its i) each row belongs to.
create function deid.put_indexed(p_rows jsonb,
  tk_i int4[], tk_ph int4[], tk_pl int4[], tk_hh int4[], tk_hl int4[], tk_c text[],
  st_i int4[], st_ph int4[], st_pl int4[], st_v text[], st_x text[],
  rf_i int4[], rf_ph int4[], rf_pl int4[], rf_tt text[], rf_ti text[],
  dt_i int4[], dt_ph int4[], dt_pl int4[], dt_lo int8[], dt_hi int8[],
  nm_i int4[], nm_ph int4[], nm_pl int4[], nm_lo float8[], nm_hi float8[], nm_sy text[], nm_co text[], nm_un text[],
  cp_i int4[], cp_ph int4[], cp_pl int4[], cp_hh int4[], cp_hl int4[], cp_lo float8[], cp_hi float8[], cp_sy text[], cp_co text[], cp_un text[])
returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  t text := ctx.tenant();
  rids bigint[];
  types text[];
  stale bigint[];
begin
  if t is null then raise exception 'deid.put_indexed: no tenant in context' using errcode = '42501'; end if;
  with src as (
    select * from jsonb_to_recordset(p_rows) as r(i int4, type text, id text, version integer, compartments text[], content text,
      key_id text, last_updated timestamptz, qi_birth text, qi_sex text, qi_zip3 text)
  ), up as (
    insert into deid.resource as d (tenant, type, id, version, compartments, content, key_id, last_updated, qi_birth, qi_sex, qi_zip3)
    select t, s.type, s.id, s.version, s.compartments, s.content, s.key_id, s.last_updated, s.qi_birth, s.qi_sex, s.qi_zip3 from src s
    on conflict (tenant, type, id) do update set version = excluded.version, compartments = excluded.compartments,
      content = excluded.content, key_id = excluded.key_id, last_updated = excluded.last_updated,
      qi_birth = excluded.qi_birth, qi_sex = excluded.qi_sex, qi_zip3 = excluded.qi_zip3
    -- xmax is set on the row an ON CONFLICT UPDATE wrote: only replaced copies have index rows to drop.
    returning d.rid, d.type, d.id, not (d.xmax = 0) as replaced
  )
  select array_agg(u.rid order by s.i), array_agg(s.type order by s.i), array_agg(u.rid) filter (where u.replaced)
    into rids, types, stale
  from up u join src s on s.type = u.type and s.id = u.id;
  if coalesce(cardinality(rids), 0) <> jsonb_array_length(p_rows) then
    raise exception 'deid.put_indexed: rows must have distinct (type, id) and i = 1..n' using errcode = '22023';
  end if;
  if stale is not null then perform deid.index_delete(stale); end if;
  -- rids[i] of an i outside 1..n is NULL: the NOT NULL rid refuses the row (fail closed).
  insert into deid.sp_token (tenant, rid, p, h, c, type)
    select t, rids[u.i], (u.ph::int8 << 32) | (u.pl::int8 & 4294967295), (u.hh::int8 << 32) | (u.hl::int8 & 4294967295), u.c, types[u.i]
    from unnest(tk_i, tk_ph, tk_pl, tk_hh, tk_hl, tk_c) as u(i, ph, pl, hh, hl, c);
  insert into deid.sp_string (tenant, rid, p, v, x, type)
    select t, rids[u.i], (u.ph::int8 << 32) | (u.pl::int8 & 4294967295), u.v, u.x, types[u.i]
    from unnest(st_i, st_ph, st_pl, st_v, st_x) as u(i, ph, pl, v, x);
  insert into deid.sp_reference (tenant, rid, p, ttype, tid, type)
    select t, rids[u.i], (u.ph::int8 << 32) | (u.pl::int8 & 4294967295), u.tt, u.ti, types[u.i]
    from unnest(rf_i, rf_ph, rf_pl, rf_tt, rf_ti) as u(i, ph, pl, tt, ti);
  insert into deid.sp_date (tenant, rid, p, lo, hi, type)
    select t, rids[u.i], (u.ph::int8 << 32) | (u.pl::int8 & 4294967295), u.lo, u.hi, types[u.i]
    from unnest(dt_i, dt_ph, dt_pl, dt_lo, dt_hi) as u(i, ph, pl, lo, hi);
  insert into deid.sp_number (tenant, rid, p, lo, hi, system, code, unit, type)
    select t, rids[u.i], (u.ph::int8 << 32) | (u.pl::int8 & 4294967295), u.lo, u.hi, u.sy, u.co, u.un, types[u.i]
    from unnest(nm_i, nm_ph, nm_pl, nm_lo, nm_hi, nm_sy, nm_co, nm_un) as u(i, ph, pl, lo, hi, sy, co, un);
  insert into deid.sp_composite (tenant, rid, p, h, lo, hi, system, code, unit, type)
    select t, rids[u.i], (u.ph::int8 << 32) | (u.pl::int8 & 4294967295), (u.hh::int8 << 32) | (u.hl::int8 & 4294967295),
      u.lo, u.hi, u.sy, u.co, u.un, types[u.i]
    from unnest(cp_i, cp_ph, cp_pl, cp_hh, cp_hl, cp_lo, cp_hi, cp_sy, cp_co, cp_un) as u(i, ph, pl, hh, hl, lo, hi, sy, co, un);
  return cardinality(rids);
end $$;

-- A delete and a key rotation now take the copies' index rows with them (same signatures as 031).
create or replace function deid.remove(p_type text, p_id text) returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  t text := ctx.tenant();
  gone bigint[];
begin
  if t is null then raise exception 'deid.remove: no tenant in context' using errcode = '42501'; end if;
  with d as (delete from deid.resource where tenant = t and type = p_type and id = p_id returning rid)
  select array_agg(rid) into gone from d;
  if gone is not null then perform deid.index_delete(gone); end if;
end $$;

create or replace function deid.retain_key(p_key_id text) returns bigint
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  t text := ctx.tenant();
  gone bigint[];
begin
  if t is null then raise exception 'deid.retain_key: no tenant in context' using errcode = '42501'; end if;
  with d as (delete from deid.resource where tenant = t and key_id <> p_key_id returning rid)
  select array_agg(rid) into gone from d;
  if gone is not null then perform deid.index_delete(gone); end if;
  return coalesce(cardinality(gone), 0);
end $$;

grant create on schema deid to fhirgate_deid_writer;
alter function deid.index_delete(bigint[]) owner to fhirgate_deid_writer;
alter function deid.put_indexed(jsonb, int4[], int4[], int4[], int4[], int4[], text[], int4[], int4[], int4[], text[], text[],
  int4[], int4[], int4[], text[], text[], int4[], int4[], int4[], int8[], int8[],
  int4[], int4[], int4[], float8[], float8[], text[], text[], text[],
  int4[], int4[], int4[], int4[], int4[], float8[], float8[], text[], text[], text[]) owner to fhirgate_deid_writer;
revoke create on schema deid from fhirgate_deid_writer;
revoke all on function deid.index_delete(bigint[]) from public;
revoke all on function deid.put_indexed(jsonb, int4[], int4[], int4[], int4[], int4[], text[], int4[], int4[], int4[], text[], text[],
  int4[], int4[], int4[], text[], text[], int4[], int4[], int4[], int8[], int8[],
  int4[], int4[], int4[], float8[], float8[], text[], text[], text[],
  int4[], int4[], int4[], int4[], int4[], float8[], float8[], text[], text[], text[]) from public;
grant execute on function deid.put_indexed(jsonb, int4[], int4[], int4[], int4[], int4[], text[], int4[], int4[], int4[], text[], text[],
  int4[], int4[], int4[], text[], text[], int4[], int4[], int4[], int8[], int8[],
  int4[], int4[], int4[], float8[], float8[], text[], text[], text[],
  int4[], int4[], int4[], int4[], int4[], float8[], float8[], text[], text[], text[]) to fhirgate_clinician, fhirgate_patient, fhirgate_system;

-- The 031 writers (deid.put, deid.put_many) store a copy without its index rows: no request role may call
-- them any more, so no write path can leave a copy unsearchable (src/store/deid.ts uses deid.put_indexed).
revoke execute on function deid.put(text, text, integer, text[], text, text, text, text, text), deid.put_many(jsonb)
  from fhirgate_clinician, fhirgate_patient, fhirgate_system;
