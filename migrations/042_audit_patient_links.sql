-- One audit row per access (src/audit/balp.ts): an access that touches several patients is stored once, its
-- `patient` column listing them (sorted, a space between: a FHIR reference never holds one), and presented as
-- one AuditEvent per patient (IHE BALP, rls-audit-deid-patterns.md §3.5; src/audit/expand.ts). The chain
-- hashes the row with its whole list, so no patient can be dropped from it unnoticed. Measured on ×10 with
-- `Patient?name=&birthdate=` (ten patients per search): a row per patient cost PostgreSQL ~1,400 µs per
-- request, one row ~600–830 µs.
--
-- Finding a patient's events needs text equality on an index: an array operator (&&) is not leakproof,
-- so under row-level security the planner may not use it as an index condition (§2.4). audit.patient_link
-- holds one (patient, recorded, id) per patient listed by an event, written by a statement trigger on
-- audit.event whichever append function inserted the rows, removed only with its archived event.
-- It is an index, not evidence: the auditor's search re-checks each hit against the chained row
-- (src/fhir/interactions/audit-search.ts), and `audit verify` checks that the links are exactly the
-- patients the events list (src/audit/verify.ts).
drop index audit.event_patient;

create table audit.patient_link (
  tenant   text not null,
  patient  text not null,
  recorded timestamptz not null,
  id       text not null
);
-- Unique: with verify's check (every link matches its event, as many links as listed patients) no link
-- can stand in for a removed one.
create unique index patient_link_lookup on audit.patient_link (tenant, patient, recorded, id);

alter table audit.patient_link enable row level security;
alter table audit.patient_link force row level security;
create policy fg_tenant_wall on audit.patient_link as restrictive for all to public
  using (tenant = (select ctx.tenant())) with check (tenant = (select ctx.tenant()));
create policy fg_auditor_select on audit.patient_link for select to fhirgate_auditor using (true);
create policy fg_writer_select on audit.patient_link for select to fhirgate_audit_writer using (true);
create policy fg_writer_insert on audit.patient_link for insert to fhirgate_audit_writer with check (true);
create policy fg_writer_delete on audit.patient_link for delete to fhirgate_audit_writer using (true);
revoke all on audit.patient_link from public;
grant select on audit.patient_link to fhirgate_auditor;
grant select, insert, delete on audit.patient_link to fhirgate_audit_writer;

-- The links of the events stored so far, every tenant's: the owner reads and writes past row-level security
-- for this one statement (FORCE is restored before the migration commits).
alter table audit.event no force row level security;
alter table audit.patient_link no force row level security;
insert into audit.patient_link (tenant, patient, recorded, id)
  select e.tenant, p, e.recorded, e.id from audit.event e cross join lateral unnest(string_to_array(e.patient, ' ')) p where e.patient <> '';
alter table audit.event force row level security;
alter table audit.patient_link force row level security;

-- The links of the rows one statement appended, or (archival, audit.archive in 032, deleting an anchored
-- prefix of events) removed: one trigger call per statement over its transition table, not one per row.
create function audit.sync_patient_links() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    insert into audit.patient_link (tenant, patient, recorded, id)
      select n.tenant, p, n.recorded, n.id from new_rows n cross join lateral unnest(string_to_array(n.patient, ' ')) p where n.patient <> '';
  else
    delete from audit.patient_link l using old_rows o, lateral unnest(string_to_array(o.patient, ' ')) p
     where o.patient <> '' and l.tenant = o.tenant and l.patient = p and l.recorded = o.recorded and l.id = o.id;
  end if;
  return null;
end $$;
create trigger event_link_patients after insert on audit.event referencing new table as new_rows
  for each statement execute function audit.sync_patient_links();
create trigger event_unlink_patients after delete on audit.event referencing old table as old_rows
  for each statement execute function audit.sync_patient_links();

-- Append-only like the events: a link is deleted only while audit.archive removes its event.
create function audit.refuse_unarchived_unlink() returns trigger language plpgsql as $$
begin
  if current_setting('fhirgate.audit_archiving', true) = 'on' then return old; end if;
  raise exception 'audit: DELETE of a patient link outside archival is not allowed (append-only)' using errcode = '42501';
end $$;
create trigger patient_link_no_update before update on audit.patient_link for each row execute function audit.refuse();
create trigger patient_link_no_delete before delete on audit.patient_link for each row execute function audit.refuse_unarchived_unlink();
create trigger patient_link_no_truncate before truncate on audit.patient_link for each statement execute function audit.refuse();
revoke all on function audit.sync_patient_links(), audit.refuse_unarchived_unlink() from public;
