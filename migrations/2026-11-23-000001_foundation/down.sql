DROP TABLE tier_reference_prices;
DROP TABLE reference_prices;
DROP TABLE rig_models;
DROP TABLE manufacturers;
DROP TABLE users;
DROP TABLE periodic_tasks;
DROP TABLE jobs;
