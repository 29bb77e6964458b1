-- How each version came to be (R4 http.html#history: a history entry's request "provides information about
-- the result of the interaction that led to this new version, and allows, for instance, a subscriber system
-- to differentiate between newly created resources and updates to existing resources"). Version 1 made by
-- PUT, or a PUT reviving a deleted resource, answered 201 to the client but was shown as POST, or as a 200
-- update, because the interaction was not kept.
--   create  POST (create), 201
--   upsert  PUT that created the resource or brought a deleted one back (http.html#upsert), 201
--   update  PUT or PATCH of a live resource, 200 (a patch is shown as the update it amounts to)
--   delete  DELETE, 204
-- NULL: written before this migration, or a resource `fhirgate import` inserted (no REST interaction; the
-- versions it replaces are recorded): history shows it as it always did (version 1 a create, anything later an
-- update, a deletion a delete). No default and no backfill, so adding the column rewrites no row of a large
-- table.
alter table fhir.resource add column interaction text;
alter table fhir.resource_history add column interaction text;
-- NOT VALID: checked for every row written from now on, without a scan of the rows already there (all NULL).
alter table fhir.resource add constraint resource_interaction
  check (interaction in ('create', 'upsert', 'update', 'delete')) not valid;
alter table fhir.resource_history add constraint resource_history_interaction
  check (interaction in ('create', 'upsert', 'update', 'delete')) not valid;
