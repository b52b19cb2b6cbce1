-- A counter of changes to the rig-model catalog. Rendered catalog pages are
-- reused while it stays the same (`catalog::page_cache`), so every instance,
-- and the CLI's imports, invalidate them the moment a change commits. Bumped
-- once per statement that writes the catalog (writes are an admin's, a few a
-- year), never by readers.
CREATE TABLE catalog_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint  NOT NULL
);
INSERT INTO catalog_version (singleton, version) VALUES (true, 0);

CREATE FUNCTION catalog_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_version SET version = version + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER rig_models_bump_catalog_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rig_models
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_version_bump();
CREATE TRIGGER manufacturers_bump_catalog_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON manufacturers
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_version_bump();
