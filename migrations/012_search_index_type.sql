-- Index rows carry their resource's type, so the row-level security policies of migrations/030_rls.sql can
-- check a SMART scope's resource types on the index row itself (`type = any(...)`) instead of a hashed
-- subplan over every visible fhir.resource row (about a second per search at 175k resources with
-- type-specific scopes). The lookup indexes include it so counts stay index-only scans.
do $$
declare t text;
begin
  foreach t in array array['sp_token', 'sp_string', 'sp_reference', 'sp_date', 'sp_number', 'sp_composite'] loop
    execute format('alter table fhir.%I add column type text', t);
    execute format('update fhir.%I x set type = r.type from fhir.resource r where r.rid = x.rid', t);
    execute format('delete from fhir.%I where type is null', t);
    execute format('alter table fhir.%I alter column type set not null', t);
  end loop;
end $$;

drop index fhir.sp_token_lookup;
create index sp_token_lookup on fhir.sp_token (tenant, h, rid) include (type);
drop index fhir.sp_string_lookup;
create index sp_string_lookup on fhir.sp_string (tenant, p, v, rid) include (type);
drop index fhir.sp_reference_lookup;
create index sp_reference_lookup on fhir.sp_reference (tenant, p, tid, ttype, rid) include (type);
drop index fhir.sp_date_lookup;
create index sp_date_lookup on fhir.sp_date (tenant, p, lo, hi, rid) include (type);
drop index fhir.sp_number_lookup;
create index sp_number_lookup on fhir.sp_number (tenant, p, lo, rid) include (type);
drop index fhir.sp_composite_lookup;
create index sp_composite_lookup on fhir.sp_composite (tenant, h, lo, rid) include (type);

-- Where the policies already exist (a database migrated past 030 before this file), rebuild them so they
-- use the new column; on a fresh database 030 runs after this and sees it.
do $$
declare t text;
begin
  if to_regprocedure('fhir.apply_rls(regclass,text)') is not null then
    foreach t in array array['sp_token', 'sp_string', 'sp_reference', 'sp_date', 'sp_number', 'sp_composite'] loop
      perform fhir.apply_rls(format('fhir.%I', t)::regclass, 'cu');
    end loop;
  end if;
end $$;
