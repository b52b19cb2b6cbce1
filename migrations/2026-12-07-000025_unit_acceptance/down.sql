DROP TABLE proof_units;
ALTER TABLE units DROP CONSTRAINT units_returned_has_tracking,
    DROP COLUMN returned_at, DROP COLUMN return_tracking_number, DROP COLUMN return_carrier;
DROP TABLE unit_rejections;
UPDATE orders SET dispute_reason = 'other' WHERE dispute_reason = 'unit_rejections_contested';
ALTER TABLE orders DROP CONSTRAINT orders_dispute_reason_check;
ALTER TABLE orders ADD CONSTRAINT orders_dispute_reason_check CHECK (dispute_reason IN
    ('not_delivered', 'not_as_described', 'hashrate_shortfall', 'damaged', 'other'));
ALTER TABLE orders DROP COLUMN rejections_answer_by;
ALTER TABLE listings DROP COLUMN doa_allowance_pct;
