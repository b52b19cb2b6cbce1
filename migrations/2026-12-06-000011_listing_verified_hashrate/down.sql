ALTER TABLE listings DROP COLUMN verified_unit_hashrate_hs;
