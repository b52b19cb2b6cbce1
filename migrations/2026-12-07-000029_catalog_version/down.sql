DROP TRIGGER manufacturers_bump_catalog_version ON manufacturers;
DROP TRIGGER rig_models_bump_catalog_version ON rig_models;
DROP FUNCTION catalog_version_bump();
DROP TABLE catalog_version;
