-- Reference targets are compared with fhir.resource (type, id) in joins (chains, _has, _include, compartments):
-- they must share that table's collation, or the unique index on fhir.resource (tenant, type, id) cannot
-- serve `t.type = x.ttype and t.id = x.tid` and the planner falls back to hashing every resource.
alter table fhir.sp_reference
  alter column ttype type text collate "default",
  alter column tid type text collate "default";
