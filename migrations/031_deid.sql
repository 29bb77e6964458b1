-- The de-identified boundary (issue "De-identification as a boundary"; patterns §2.2, §4): schema deid
-- holds a Safe Harbor copy of every current resource, written in the same transaction as the write,
-- with ids and references replaced by keyed-hash pseudonyms. Researchers read only this schema: the
-- researcher role has no privilege at all on schema fhir. Request roles that write clinical data reach
-- deid only through two SECURITY DEFINER functions (deid.put, deid.remove), so none of them can read
-- the copy and learn the pseudonym of an identified resource (deid.put_many is the importer's bulk form).

create schema if not exists deid;
revoke all on schema deid from public;

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'fhirgate_deid_writer') then
    begin
      create role fhirgate_deid_writer nologin nosuperuser nocreatedb nocreaterole noinherit nobypassrls;
    exception when duplicate_object or unique_violation then null;
    end;
  end if;
  -- Membership lets the migrating role hand function ownership over (ALTER FUNCTION … OWNER).
  execute format('grant fhirgate_deid_writer to %I', current_user);
end $$;

create table deid.resource (
  tenant       text not null,
  type         text not null,
  id           text not null,          -- pseudonym: HMAC(key, tenant|type/id), hex
  version      integer not null,
  compartments text[] not null default '{}',  -- 'Patient/<pseudonym>'
  content      text not null,          -- the de-identified resource as served to researchers
  key_id       text not null,          -- which HMAC key made the pseudonyms (rotation rebuilds)
  -- Quasi-identifiers of Patient rows for the k-anonymity report: birth year ('90+' grouped), sex, ZIP3.
  qi_birth     text,
  qi_sex       text,
  qi_zip3      text,
  primary key (tenant, type, id)
);
create index deid_resource_compartments on deid.resource using gin (compartments);
create index deid_resource_patients on deid.resource (tenant, qi_birth, qi_sex, qi_zip3) where type = 'Patient';

alter table deid.resource enable row level security;
alter table deid.resource force row level security;
create policy fg_tenant_wall on deid.resource as restrictive for all to public
  using (tenant = (select ctx.tenant())) with check (tenant = (select ctx.tenant()));
-- Researchers: read-only, the types their user/ or system/ scopes grant.
create policy fg_researcher_select on deid.resource for select to fhirgate_researcher
  using (type = any((select ctx.types('rs', '{user,system}'))::text[]) or (select '*' = any(ctx.types('rs', '{user,system}'))));
-- The writer (owner of deid.put/remove) maintains rows of the caller's tenant only (the wall above).
create policy fg_writer_all on deid.resource for all to fhirgate_deid_writer using (true) with check (true);

grant usage on schema deid to fhirgate_researcher, fhirgate_clinician, fhirgate_patient, fhirgate_system, fhirgate_deid_writer;
grant select on deid.resource to fhirgate_researcher;
grant select, insert, update, delete on deid.resource to fhirgate_deid_writer;
grant usage on schema ctx to fhirgate_deid_writer;

-- Upsert the copy of one resource in the caller's tenant (the tenant comes from the request context).
create function deid.put(p_type text, p_id text, p_version integer, p_compartments text[], p_content text,
  p_key_id text, p_qi_birth text, p_qi_sex text, p_qi_zip3 text) returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare t text := ctx.tenant();
begin
  if t is null then raise exception 'deid.put: no tenant in context' using errcode = '42501'; end if;
  insert into deid.resource as d (tenant, type, id, version, compartments, content, key_id, qi_birth, qi_sex, qi_zip3)
  values (t, p_type, p_id, p_version, p_compartments, p_content, p_key_id, p_qi_birth, p_qi_sex, p_qi_zip3)
  on conflict (tenant, type, id) do update set version = excluded.version, compartments = excluded.compartments,
    content = excluded.content, key_id = excluded.key_id, qi_birth = excluded.qi_birth, qi_sex = excluded.qi_sex, qi_zip3 = excluded.qi_zip3;
end $$;

-- Bulk form for the importer: a JSON array of {type, id, version, compartments, content, key_id, qi_*}.
create function deid.put_many(p_rows jsonb) returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  t text := ctx.tenant();
  n integer;
begin
  if t is null then raise exception 'deid.put_many: no tenant in context' using errcode = '42501'; end if;
  insert into deid.resource as d (tenant, type, id, version, compartments, content, key_id, qi_birth, qi_sex, qi_zip3)
  select t, r.type, r.id, r.version, r.compartments, r.content, r.key_id, r.qi_birth, r.qi_sex, r.qi_zip3
  from jsonb_to_recordset(p_rows) as r(type text, id text, version integer, compartments text[], content text, key_id text,
    qi_birth text, qi_sex text, qi_zip3 text)
  on conflict (tenant, type, id) do update set version = excluded.version, compartments = excluded.compartments,
    content = excluded.content, key_id = excluded.key_id, qi_birth = excluded.qi_birth, qi_sex = excluded.qi_sex, qi_zip3 = excluded.qi_zip3;
  get diagnostics n = row_count;
  return n;
end $$;

create function deid.remove(p_type text, p_id text) returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare t text := ctx.tenant();
begin
  if t is null then raise exception 'deid.remove: no tenant in context' using errcode = '42501'; end if;
  delete from deid.resource where tenant = t and type = p_type and id = p_id;
end $$;

-- Key rotation: after the copy was rebuilt with the new key, rows made with any other key go.
create function deid.retain_key(p_key_id text) returns bigint
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  t text := ctx.tenant();
  n bigint;
begin
  if t is null then raise exception 'deid.retain_key: no tenant in context' using errcode = '42501'; end if;
  delete from deid.resource where tenant = t and key_id <> p_key_id;
  get diagnostics n = row_count;
  return n;
end $$;

grant create on schema deid to fhirgate_deid_writer;
alter function deid.put(text, text, integer, text[], text, text, text, text, text) owner to fhirgate_deid_writer;
alter function deid.remove(text, text) owner to fhirgate_deid_writer;
alter function deid.put_many(jsonb) owner to fhirgate_deid_writer;
alter function deid.retain_key(text) owner to fhirgate_deid_writer;
revoke create on schema deid from fhirgate_deid_writer;
revoke all on function deid.put(text, text, integer, text[], text, text, text, text, text), deid.remove(text, text), deid.put_many(jsonb) from public;
grant execute on function deid.put(text, text, integer, text[], text, text, text, text, text), deid.remove(text, text), deid.put_many(jsonb)
  to fhirgate_clinician, fhirgate_patient, fhirgate_system;
revoke all on function deid.retain_key(text) from public;
-- A rebuild reads every identified resource of the tenant: a backend (system) job.
grant execute on function deid.retain_key(text) to fhirgate_system;
