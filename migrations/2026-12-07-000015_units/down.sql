DROP INDEX listing_flags_open_serial_idx;
DROP INDEX listing_flags_related_listing_id_idx;
ALTER TABLE listing_flags DROP CONSTRAINT listing_flags_system_has_serial;
ALTER TABLE listing_flags DROP COLUMN related_listing_id;
ALTER TABLE listing_flags DROP COLUMN serial;
DELETE FROM listing_flags WHERE reporter_id IS NULL;
ALTER TABLE listing_flags DROP CONSTRAINT listing_flags_reason_check;
ALTER TABLE listing_flags ADD CONSTRAINT listing_flags_reason_check CHECK (reason IN
    ('misleading', 'counterfeit', 'prohibited', 'duplicate', 'scam', 'other'));
ALTER TABLE listing_flags ALTER COLUMN reporter_id SET NOT NULL;
ALTER TABLE listings DROP COLUMN serial_units;
DROP TABLE serial_reports;
DROP TABLE units;
