-- The hub_app role's privileges, run as hub_owner after every `hub migrate` (new tables need
-- their grants): psql -v ON_ERROR_STOP=1 -f deploy/postgres/grants.sql. Idempotent.
-- deploy/README.md, "The disclosure log on PostgreSQL: two roles".
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO hub_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO hub_app;
-- the log: append and read only
REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON log_entry, tree_head, log_retention
  FROM hub_app;
-- policy releases are append-only too (triggers of migration 0004release refuse the rest)
REVOKE UPDATE, DELETE, TRUNCATE ON policy_release FROM hub_app;
GRANT UPDATE (actor_user_id, person_id, request_id, address, detail, salt, erased_at)
  ON log_entry TO hub_app;                      -- the erasure; the trigger checks the rest
GRANT UPDATE (pushed_at) ON tree_head TO hub_app;
GRANT UPDATE (erase_before) ON log_retention TO hub_app;
GRANT SELECT ON log_refused_change_seq TO hub_app;  -- read the count, never advance it
-- log_tile keeps its grants: the checkpointer rewrites each level's partial tile. The tiles are
-- derived from the log; proofs from them are checked against signed roots, and `hub audit
-- verify` checks every tile against the leaves.
REVOKE ALL ON FUNCTION log_refuse(text, text, text), log_refuse_always(),
  log_entry_guard(), tree_head_guard(), log_retention_guard() FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE hub_owner IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO hub_app;
