-- Additive only. What the registry's rules left out or merged the last time the registry was
-- replaced (`bmu sync`, `bmu import`, the automatic fill): units without an Elexon id (and
-- how many of them are WIND), ids listed more than once that agreed and became one unit,
-- ids listed more than once that differed in lead party, name, capacity or National Grid id
-- (the first occurrence kept). Null for a registry replaced before this column existed.
ALTER TABLE bm_unit_registry
  ADD COLUMN IF NOT EXISTS units_without_id integer,
  ADD COLUMN IF NOT EXISTS wind_units_without_id integer,
  ADD COLUMN IF NOT EXISTS duplicates_merged integer,
  ADD COLUMN IF NOT EXISTS duplicates_kept_first integer;
