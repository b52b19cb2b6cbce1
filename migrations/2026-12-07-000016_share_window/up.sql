-- The share that opens a proof's window was mined before the window started
-- (`started_at` is the moment it arrived). It is kept, so that a copy of it is
-- still a duplicate, but it is not counted: N is the number of shares found
-- inside the window, which is what the estimator assumes.
ALTER TABLE proof_shares ADD COLUMN counted boolean NOT NULL DEFAULT true;
