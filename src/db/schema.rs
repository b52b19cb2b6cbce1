// Diesel table definitions. Kept in step with `migrations/` by hand; the test
// `schema_matches_database` in tests/api/db.rs compares every column here with the
// migrated database, so a drift fails CI.

diesel::table! {
    jobs (id) {
        id -> Int8,
        kind -> Text,
        payload -> Jsonb,
        status -> Text,
        run_at -> Timestamptz,
        attempts -> Int4,
        max_attempts -> Int4,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    periodic_tasks (name) {
        name -> Text,
        interval_secs -> Int4,
        next_run_at -> Timestamptz,
        last_run_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        password_hash -> Nullable<Text>,
        display_name -> Text,
        roles -> Array<Text>,
        email_verified_at -> Nullable<Timestamptz>,
        suspended_at -> Nullable<Timestamptz>,
        suspension_reason -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    manufacturers (id) {
        id -> Uuid,
        name -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    rig_models (id) {
        id -> Uuid,
        manufacturer_id -> Uuid,
        name -> Text,
        algorithm -> Text,
        hashrate_hs -> Int8,
        power_w -> Int4,
        release_year -> Nullable<Int2>,
        source -> Nullable<Text>,
        efficiency_j_per_th -> Float8,
        tier -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    reference_prices (id) {
        id -> Uuid,
        rig_model_id -> Uuid,
        priced_on -> Date,
        basis -> Text,
        amount_cents -> Int8,
        currency -> Text,
        source -> Text,
        note -> Nullable<Text>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    tier_reference_prices (id) {
        id -> Uuid,
        tier -> Text,
        min_j_per_th -> Int4,
        max_j_per_th -> Nullable<Int4>,
        priced_on -> Date,
        usd_per_th_cents -> Int8,
        source -> Text,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(rig_models -> manufacturers (manufacturer_id));
diesel::joinable!(reference_prices -> rig_models (rig_model_id));
diesel::joinable!(reference_prices -> users (created_by));

diesel::allow_tables_to_appear_in_same_query!(
    jobs,
    periodic_tasks,
    users,
    manufacturers,
    rig_models,
    reference_prices,
    tier_reference_prices,
);
