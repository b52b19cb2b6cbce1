DROP TABLE relay_jobs;
DROP TABLE proof_shares;
DROP TABLE hashrate_proofs;
