ALTER TABLE proof_shares DROP COLUMN counted;
