//! The packed form of a key's buckets in one month (`price_index_months`, see
//! its migration): per answer kind, one `bytea` of fixed-size records in bucket
//! order, big-endian, NULL as `i64::MIN`. A three-year daily series of 31 models
//! arrives as about 1,100 such rows instead of 34,000 bucket rows of 22 columns.

use chrono::NaiveDate;

use super::bucket::BucketRow;

/// What an answer reads of each bucket: one packed column of `price_index_months`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measures {
    /// Observations and their quantiles: price series.
    Prices,
    /// New listings and their discounts: fire-sale series.
    NewListings,
}

/// Encodes NULL in an 8-byte field; no price or discount is this small.
const NULL: i64 = i64::MIN;

impl Measures {
    /// The column of `price_index_months` holding these measures.
    pub fn column(self) -> &'static str {
        match self {
            Self::Prices => "prices",
            Self::NewListings => "new_listings",
        }
    }

    /// The same record packed from a row of `price_index_buckets` (SQL).
    pub fn pack_live(self) -> &'static str {
        match self {
            Self::Prices => {
                "price_index_pack_prices(bucket_start, observations, fire_sales, discounted, p25_lo, p25_hi, \
                 p50_lo, p50_hi, p75_lo, p75_hi, discount_p50_lo, discount_p50_hi)"
            }
            Self::NewListings => {
                "price_index_pack_new_listings(bucket_start, new_listings, new_fire_sales, new_discounted, \
                 new_discount_p50_lo, new_discount_p50_hi, new_fire_discount_p50_lo, new_fire_discount_p50_hi)"
            }
        }
    }

    /// Bytes per bucket: the start and three counts (4 bytes each), then 8 or 4
    /// order statistics (8 bytes each).
    fn record_len(self) -> usize {
        match self {
            Self::Prices => 16 + 8 * 8,
            Self::NewListings => 16 + 4 * 8,
        }
    }

    /// Appends the buckets of `records` that start in `first..=last` to `rows`,
    /// each under the key `template` carries (its other measures stay empty).
    pub fn unpack(
        self,
        template: &BucketRow,
        records: &[u8],
        first: NaiveDate,
        last: NaiveDate,
        rows: &mut Vec<BucketRow>,
    ) -> Result<(), String> {
        if !records.len().is_multiple_of(self.record_len()) {
            return Err(format!("{} packed bytes are not {}-byte records", records.len(), self.record_len()));
        }
        rows.reserve(records.len() / self.record_len());
        for record in records.chunks_exact(self.record_len()) {
            let mut fields = Fields(record);
            let bucket_start = NaiveDate::from_epoch_days(fields.int4())
                .ok_or_else(|| "a packed bucket starts outside the calendar".to_string())?;
            if bucket_start < first || bucket_start > last {
                continue;
            }
            let mut row = BucketRow { bucket_start, ..template.clone() };
            match self {
                Self::Prices => {
                    row.observations = fields.int4();
                    row.fire_sales = fields.int4();
                    row.discounted = fields.int4();
                    row.p25_lo = fields.int8();
                    row.p25_hi = fields.int8();
                    row.p50_lo = fields.int8();
                    row.p50_hi = fields.int8();
                    row.p75_lo = fields.int8();
                    row.p75_hi = fields.int8();
                    row.discount_p50_lo = fields.int8();
                    row.discount_p50_hi = fields.int8();
                }
                Self::NewListings => {
                    row.new_listings = fields.int4();
                    row.new_fire_sales = fields.int4();
                    row.new_discounted = fields.int4();
                    row.new_discount_p50_lo = fields.int8();
                    row.new_discount_p50_hi = fields.int8();
                    row.new_fire_discount_p50_lo = fields.int8();
                    row.new_fire_discount_p50_hi = fields.int8();
                }
            }
            rows.push(row);
        }
        Ok(())
    }
}

/// Reads one record's fields in order (the record's length is checked first).
struct Fields<'a>(&'a [u8]);

impl Fields<'_> {
    fn int4(&mut self) -> i32 {
        let (field, rest) = self.0.split_first_chunk::<4>().expect("record length checked");
        self.0 = rest;
        i32::from_be_bytes(*field)
    }

    fn int8(&mut self) -> Option<i64> {
        let (field, rest) = self.0.split_first_chunk::<8>().expect("record length checked");
        self.0 = rest;
        Some(i64::from_be_bytes(*field)).filter(|&value| value != NULL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    /// A prices record as `price_index_pack_prices` writes it.
    fn prices(start: &str, counts: [i32; 3], quantiles: [Option<i64>; 8]) -> Vec<u8> {
        let days = (day(start) - NaiveDate::from_epoch_days(0).unwrap()).num_days() as i32;
        let mut record = days.to_be_bytes().to_vec();
        counts.iter().for_each(|n| record.extend(n.to_be_bytes()));
        quantiles.iter().for_each(|q| record.extend(q.unwrap_or(NULL).to_be_bytes()));
        record
    }

    fn tier() -> BucketRow {
        BucketRow { tier: Some("25to38".into()), ..BucketRow::default() }
    }

    #[test]
    fn records_unpack_to_the_buckets_of_the_range_in_order() {
        let quantiles = [Some(1), Some(2), Some(3), Some(4), Some(5), Some(6), None, None];
        let mut records = Vec::new();
        for (n, start) in ["2021-05-31", "2021-06-01", "2021-06-02", "2021-06-03"].iter().enumerate() {
            records.extend(prices(start, [n as i32 + 1, n as i32, 0], quantiles));
        }
        let mut rows = Vec::new();
        Measures::Prices.unpack(&tier(), &records, day("2021-06-01"), day("2021-06-02"), &mut rows).unwrap();
        let starts: Vec<NaiveDate> = rows.iter().map(|r| r.bucket_start).collect();
        assert_eq!(starts, [day("2021-06-01"), day("2021-06-02")]);
        let first = &rows[0];
        assert_eq!((first.observations, first.fire_sales, first.discounted), (2, 1, 0));
        assert_eq!((first.p25_lo, first.p75_hi, first.discount_p50_lo), (Some(1), Some(6), None));
        assert_eq!(first.tier.as_deref(), Some("25to38"));
        assert_eq!((first.new_listings, first.new_discount_p50_lo), (0, None), "not read by a price answer");
    }

    #[test]
    fn new_listing_records_carry_their_own_measures() {
        let days = (day("2021-06-07") - NaiveDate::from_epoch_days(0).unwrap()).num_days() as i32;
        let mut record = days.to_be_bytes().to_vec();
        [5, 2, 4].iter().for_each(|n: &i32| record.extend(n.to_be_bytes()));
        [Some(1500_i64), Some(1700), None, Some(-20)]
            .iter()
            .for_each(|q| record.extend(q.unwrap_or(NULL).to_be_bytes()));
        let mut rows = Vec::new();
        Measures::NewListings.unpack(&tier(), &record, day("2021-06-07"), day("2021-06-07"), &mut rows).unwrap();
        let row = &rows[0];
        assert_eq!((row.new_listings, row.new_fire_sales, row.new_discounted), (5, 2, 4));
        assert_eq!(
            (
                row.new_discount_p50_lo,
                row.new_discount_p50_hi,
                row.new_fire_discount_p50_lo,
                row.new_fire_discount_p50_hi
            ),
            (Some(1500), Some(1700), None, Some(-20))
        );
    }

    #[test]
    fn a_torn_record_is_an_error() {
        let mut records = prices("2021-06-01", [1, 0, 0], [Some(1); 8]);
        records.pop();
        let mut rows = Vec::new();
        let unpacked = Measures::Prices.unpack(&tier(), &records, day("2021-06-01"), day("2021-06-30"), &mut rows);
        assert!(unpacked.is_err());
        assert!(rows.is_empty());
    }
}
