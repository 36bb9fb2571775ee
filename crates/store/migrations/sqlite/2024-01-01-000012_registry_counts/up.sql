-- Additive only. What the registry's rules left out or merged the last time the registry was
-- replaced (`bmu sync`, `bmu import`, the automatic fill): units without an Elexon id (and
-- how many of them are WIND), ids listed more than once that agreed and became one unit,
-- ids listed more than once that differed in lead party, name, capacity or National Grid id
-- (the first occurrence kept). Null for a registry replaced before these columns existed.
ALTER TABLE bm_unit_registry ADD COLUMN units_without_id INTEGER;
ALTER TABLE bm_unit_registry ADD COLUMN wind_units_without_id INTEGER;
ALTER TABLE bm_unit_registry ADD COLUMN duplicates_merged INTEGER;
ALTER TABLE bm_unit_registry ADD COLUMN duplicates_kept_first INTEGER;
