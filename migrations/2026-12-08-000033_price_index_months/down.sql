DROP TRIGGER price_index_months_on_truncate ON price_index_materialized;
DROP TRIGGER price_index_months_on_delete ON price_index_materialized;
DROP TRIGGER price_index_months_on_update ON price_index_materialized;
DROP TRIGGER price_index_months_on_insert ON price_index_materialized;
DROP FUNCTION price_index_months_clear();
DROP FUNCTION price_index_months_repack();
DROP TABLE price_index_months;
DROP FUNCTION price_index_pack_new_listings(DATE, INTEGER, INTEGER, INTEGER, BIGINT, BIGINT, BIGINT, BIGINT);
DROP FUNCTION price_index_pack_prices(DATE, INTEGER, INTEGER, INTEGER, BIGINT, BIGINT, BIGINT, BIGINT, BIGINT, BIGINT,
                                      BIGINT, BIGINT);
