DROP TABLE caller_write_lsns;
