-- effects.key compares as bytes (collation "C"). Every claim and settle walks effects_pkey with
-- keys that share long prefixes (`reminder:24h:<appointment>:`); under the database's own
-- collation each comparison went through strcoll (en_US.UTF-8 on most servers). A key is an
-- identifier, not text for people to sort, and equality is the same under any deterministic
-- collation, so nothing that finds an effect by its key changes. The console's prefix search
-- (ops_search, `key collate "C"` between two bounds) now uses the primary key, and its own index
-- (effects_key_c_idx) goes: one btree fewer on every claim and settle. On 100,000 reminders the
-- database's CPU fell 10-20% (bench/README.md).
--
-- The column's indexes are rebuilt under an exclusive lock on effects: on a table of millions of
-- effects that takes seconds; runs wait for it.
drop index if exists public.effects_key_c_idx;
alter table public.effects alter column key type text collate "C";
