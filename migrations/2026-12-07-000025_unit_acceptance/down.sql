DROP TABLE proof_units;
ALTER TABLE units DROP CONSTRAINT units_returned_has_tracking,
    DROP COLUMN returned_at, DROP COLUMN return_tracking_number, DROP COLUMN return_carrier;
DROP TABLE unit_rejections;
ALTER TABLE orders DROP COLUMN rejections_answer_by;
ALTER TABLE listings DROP COLUMN doa_allowance_pct;
