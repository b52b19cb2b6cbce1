// Diesel table definitions. Kept in step with `migrations/` by hand; the test
// `schema_matches_database` in tests/api/db.rs compares every column here with the
// migrated database, so a drift fails CI.

pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "tsvector"))]
    pub struct Tsvector;
}

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
    catalog_version (singleton) {
        singleton -> Bool,
        version -> Int8,
    }
}

diesel::table! {
    caller_write_lsns (user_id) {
        user_id -> Uuid,
        lsn -> Int8,
        written_at -> Timestamptz,
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
        country -> Nullable<Text>,
        company -> Nullable<Text>,
        payout_details -> Nullable<Text>,
        password_changed_at -> Nullable<Timestamptz>,
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

diesel::table! {
    sessions (id) {
        id -> Uuid,
        user_id -> Uuid,
        created_at -> Timestamptz,
        last_refreshed_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        revoked_reason -> Nullable<Text>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Bytea,
        session_id -> Uuid,
        issued_at -> Timestamptz,
        expires_at -> Timestamptz,
        replaced_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    email_tokens (token_hash) {
        token_hash -> Bytea,
        user_id -> Uuid,
        purpose -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Uuid,
        user_id -> Uuid,
        name -> Text,
        prefix -> Text,
        key_hash -> Bytea,
        requests_per_minute -> Int4,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    rate_limit_windows (bucket, window_start) {
        bucket -> Text,
        window_start -> Timestamptz,
        hits -> Int4,
    }
}

diesel::table! {
    login_throttle (key) {
        key -> Text,
        failures -> Int4,
        last_failure_at -> Timestamptz,
        blocked_until -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Int8,
        occurred_at -> Timestamptz,
        actor_id -> Nullable<Uuid>,
        action -> Text,
        target_type -> Nullable<Text>,
        target_id -> Nullable<Text>,
        ip -> Nullable<Text>,
        details -> Jsonb,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Tsvector;

    listings (id) {
        id -> Uuid,
        seller_id -> Uuid,
        rig_model_id -> Uuid,
        manufacturer_id -> Uuid,
        title -> Text,
        description -> Text,
        status -> Text,
        rejection_reason -> Nullable<Text>,
        quantity -> Int4,
        quantity_reserved -> Int4,
        quantity_sold -> Int4,
        quantity_available -> Int4,
        unit_price_cents -> Int8,
        currency -> Text,
        country -> Text,
        region -> Nullable<Text>,
        incoterm -> Nullable<Text>,
        lead_time_days -> Nullable<Int4>,
        inspection_days -> Int4,
        serial_numbers -> Array<Text>,
        hosting_facility -> Nullable<Text>,
        hosting_country -> Nullable<Text>,
        hosting_contract_ends_on -> Nullable<Date>,
        power_off_at -> Nullable<Timestamptz>,
        model_hashrate_hs -> Int8,
        model_efficiency_j_per_th -> Float8,
        model_tier -> Text,
        usd_per_th_cents -> Int8,
        reference_unit_price_cents -> Nullable<Int8>,
        discount_bps -> Nullable<Int8>,
        discount_rank -> Int8,
        published_reference_unit_price_cents -> Nullable<Int8>,
        published_discount_bps -> Nullable<Int8>,
        latest_condition_grade -> Nullable<Text>,
        hashrate_verified_until -> Nullable<Timestamptz>,
        verified_unit_hashrate_hs -> Nullable<Int8>,
        search_document -> Tsvector,
        power_off_reminder_7d_at -> Nullable<Timestamptz>,
        power_off_reminder_1d_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        submitted_at -> Nullable<Timestamptz>,
        published_at -> Nullable<Timestamptz>,
        serial_units -> Int4,
        offers_enabled -> Bool,
        offer_floor_unit_price_cents -> Nullable<Int8>,
        offer_floor_discount_pct -> Nullable<Int4>,
        auto_accept_unit_price_cents -> Nullable<Int8>,
        doa_allowance_pct -> Int4,
    }
}

diesel::table! {
    listing_price_changes (id) {
        id -> Int8,
        listing_id -> Uuid,
        old_price_cents -> Int8,
        new_price_cents -> Int8,
        changed_by -> Uuid,
        changed_at -> Timestamptz,
    }
}

diesel::table! {
    condition_reports (id) {
        id -> Uuid,
        listing_id -> Uuid,
        version -> Int4,
        author_id -> Uuid,
        author_role -> Text,
        cosmetic_grade -> Text,
        hashboards_total -> Int4,
        hashboards_working -> Int4,
        fans_total -> Int4,
        fans_working -> Int4,
        psu_included -> Bool,
        psu_model -> Nullable<Text>,
        firmware -> Text,
        firmware_version -> Nullable<Text>,
        cooling_history -> Text,
        operating_hours -> Nullable<Int4>,
        last_hashrate_hs -> Nullable<Int8>,
        last_power_w -> Nullable<Int4>,
        max_chip_temp_c -> Nullable<Int4>,
        repairs -> Nullable<Text>,
        notes -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    listing_photos (id) {
        id -> Uuid,
        listing_id -> Uuid,
        object_key -> Text,
        content_type -> Text,
        size_bytes -> Int8,
        sha256 -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamptz,
        attached_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    listing_flags (id) {
        id -> Uuid,
        listing_id -> Uuid,
        reporter_id -> Nullable<Uuid>,
        reason -> Text,
        details -> Nullable<Text>,
        status -> Text,
        resolved_by -> Nullable<Uuid>,
        resolved_at -> Nullable<Timestamptz>,
        resolution_note -> Nullable<Text>,
        created_at -> Timestamptz,
        serial -> Nullable<Text>,
        related_listing_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    hashrate_proofs (id) {
        id -> Uuid,
        listing_id -> Uuid,
        requested_by -> Uuid,
        purpose -> Text,
        token_hash -> Bytea,
        status -> Text,
        units -> Int4,
        claimed_hashrate_hs -> Int8,
        share_difficulty -> Float8,
        duration_secs -> Int4,
        challenge -> Bytea,
        created_at -> Timestamptz,
        connect_deadline -> Timestamptz,
        started_at -> Nullable<Timestamptz>,
        ends_at -> Nullable<Timestamptz>,
        ended_at -> Nullable<Timestamptz>,
        shares_accepted -> Int8,
        shares_rejected -> Jsonb,
        estimated_hashrate_hs -> Nullable<Float8>,
        ci95_low_hs -> Nullable<Float8>,
        ci95_high_hs -> Nullable<Float8>,
        ratio_to_claim -> Nullable<Float8>,
        valid_until -> Nullable<Timestamptz>,
        order_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    proof_shares (proof_id, header_hash) {
        proof_id -> Uuid,
        header_hash -> Bytea,
        worker -> Text,
        accepted_at -> Timestamptz,
        counted -> Bool,
    }
}

diesel::table! {
    relay_jobs (proof_id, job_id) {
        proof_id -> Uuid,
        job_id -> Text,
        extranonce1 -> Bytea,
        prevhash -> Bytea,
        ntime -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    orders (id) {
        id -> Uuid,
        listing_id -> Uuid,
        buyer_id -> Uuid,
        seller_id -> Uuid,
        status -> Text,
        quantity -> Int4,
        unit_price_cents -> Int8,
        subtotal_cents -> Int8,
        total_cents -> Int8,
        fee_bps -> Int4,
        fee_cents -> Int8,
        currency -> Text,
        reference_unit_price_cents -> Nullable<Int8>,
        discount_bps -> Nullable<Int8>,
        payment_method -> Text,
        payment_reference -> Text,
        btcpay_invoice_id -> Nullable<Text>,
        btcpay_checkout_url -> Nullable<Text>,
        shipping_address -> Jsonb,
        inspection_days -> Int4,
        carrier -> Nullable<Text>,
        tracking_number -> Nullable<Text>,
        pay_by -> Timestamptz,
        ship_by -> Nullable<Timestamptz>,
        auto_refund_at -> Nullable<Timestamptz>,
        auto_delivery_at -> Nullable<Timestamptz>,
        inspect_until -> Nullable<Timestamptz>,
        paid_at -> Nullable<Timestamptz>,
        paid_amount_cents -> Nullable<Int8>,
        shipped_at -> Nullable<Timestamptz>,
        delivered_at -> Nullable<Timestamptz>,
        disputed_at -> Nullable<Timestamptz>,
        closed_at -> Nullable<Timestamptz>,
        refund_cents -> Nullable<Int8>,
        seller_credit_cents -> Nullable<Int8>,
        platform_fee_cents -> Nullable<Int8>,
        dispute_reason -> Nullable<Text>,
        dispute_description -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        doa_allowance_pct -> Int4,
        agreed_ship_by -> Nullable<Timestamptz>,
        offer_thread_id -> Nullable<Uuid>,
        rejections_answer_by -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    offer_threads (id) {
        id -> Uuid,
        listing_id -> Uuid,
        buyer_id -> Uuid,
        seller_id -> Uuid,
        status -> Text,
        payment_method -> Text,
        shipping_address -> Jsonb,
        latest_n -> Int4,
        latest_by -> Text,
        quantity -> Int4,
        unit_price_cents -> Int8,
        expires_at -> Timestamptz,
        close_reason -> Nullable<Text>,
        close_note -> Nullable<Text>,
        order_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        closed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    offer_versions (thread_id, n) {
        thread_id -> Uuid,
        n -> Int4,
        by_role -> Text,
        quantity -> Int4,
        unit_price_cents -> Int8,
        doa_allowance_pct -> Int4,
        ship_by -> Nullable<Timestamptz>,
        message -> Nullable<Text>,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    order_events (id) {
        id -> Int8,
        order_id -> Uuid,
        actor_id -> Nullable<Uuid>,
        actor_role -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        reason -> Text,
        details -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    ledger_transactions (id) {
        id -> Uuid,
        order_id -> Nullable<Uuid>,
        kind -> Text,
        memo -> Text,
        reference -> Nullable<Text>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    ledger_entries (id) {
        id -> Int8,
        transaction_id -> Uuid,
        account -> Text,
        amount_cents -> Int8,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Uuid,
        key -> Text,
        request_hash -> Bytea,
        response_status -> Int4,
        response_body -> Jsonb,
        order_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    btcpay_deliveries (delivery_id) {
        delivery_id -> Text,
        event_type -> Text,
        invoice_id -> Nullable<Text>,
        order_id -> Nullable<Uuid>,
        outcome -> Text,
        received_at -> Timestamptz,
    }
}

diesel::table! {
    settlement_offers (id) {
        id -> Uuid,
        order_id -> Uuid,
        offered_by -> Uuid,
        refund_cents -> Int8,
        message -> Text,
        status -> Text,
        created_at -> Timestamptz,
        decided_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    order_evidence (id) {
        id -> Uuid,
        order_id -> Uuid,
        uploaded_by -> Uuid,
        object_key -> Text,
        content_type -> Text,
        size_bytes -> Int8,
        status -> Text,
        created_at -> Timestamptz,
        attached_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    order_messages (id) {
        id -> Uuid,
        order_id -> Uuid,
        author_id -> Nullable<Uuid>,
        author_role -> Text,
        body -> Text,
        evidence_ids -> Array<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    order_reviews (order_id, author_id) {
        order_id -> Uuid,
        author_id -> Uuid,
        subject_id -> Uuid,
        author_role -> Text,
        rating -> Int2,
        comment -> Text,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(rig_models -> manufacturers (manufacturer_id));
diesel::joinable!(reference_prices -> rig_models (rig_model_id));
diesel::joinable!(reference_prices -> users (created_by));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(email_tokens -> users (user_id));
diesel::joinable!(api_keys -> users (user_id));
diesel::joinable!(audit_log -> users (actor_id));
diesel::joinable!(listings -> users (seller_id));
diesel::joinable!(listings -> rig_models (rig_model_id));
diesel::joinable!(listings -> manufacturers (manufacturer_id));
diesel::joinable!(listing_price_changes -> listings (listing_id));
diesel::joinable!(condition_reports -> listings (listing_id));
diesel::joinable!(listing_photos -> listings (listing_id));
diesel::table! {
    units (id) {
        id -> Uuid,
        listing_id -> Uuid,
        seller_id -> Uuid,
        serial -> Text,
        mac -> Nullable<Text>,
        hashboard_serials -> Array<Text>,
        psu_serial -> Nullable<Text>,
        grade -> Nullable<Text>,
        hashboards_working -> Nullable<Int4>,
        notes -> Nullable<Text>,
        status -> Text,
        in_open_lot -> Bool,
        order_id -> Nullable<Uuid>,
        sold_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        return_carrier -> Nullable<Text>,
        return_tracking_number -> Nullable<Text>,
        returned_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    unit_rejections (id) {
        id -> Uuid,
        order_id -> Uuid,
        unit_id -> Uuid,
        serial -> Text,
        reason -> Text,
        evidence_ids -> Array<Uuid>,
        proof_id -> Nullable<Uuid>,
        note -> Text,
        status -> Text,
        created_at -> Timestamptz,
        decided_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    proof_units (proof_id, serial) {
        proof_id -> Uuid,
        serial -> Text,
        shares_accepted -> Nullable<Int8>,
        estimated_hashrate_hs -> Nullable<Float8>,
        ci95_low_hs -> Nullable<Float8>,
        ci95_high_hs -> Nullable<Float8>,
        status -> Nullable<Text>,
    }
}

diesel::table! {
    serial_reports (id) {
        id -> Uuid,
        serial -> Text,
        note -> Text,
        reported_by -> Uuid,
        reported_at -> Timestamptz,
        revoked_by -> Nullable<Uuid>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(listing_flags -> listings (listing_id));
diesel::joinable!(units -> listings (listing_id));
diesel::joinable!(hashrate_proofs -> listings (listing_id));
diesel::joinable!(hashrate_proofs -> users (requested_by));
diesel::joinable!(proof_shares -> hashrate_proofs (proof_id));
diesel::joinable!(proof_units -> hashrate_proofs (proof_id));
diesel::joinable!(unit_rejections -> orders (order_id));
diesel::joinable!(unit_rejections -> units (unit_id));
diesel::joinable!(relay_jobs -> hashrate_proofs (proof_id));
diesel::joinable!(hashrate_proofs -> orders (order_id));
diesel::joinable!(orders -> listings (listing_id));
diesel::joinable!(order_events -> orders (order_id));
diesel::joinable!(ledger_transactions -> orders (order_id));
diesel::joinable!(ledger_entries -> ledger_transactions (transaction_id));
diesel::joinable!(settlement_offers -> orders (order_id));
diesel::joinable!(order_evidence -> orders (order_id));
diesel::joinable!(order_messages -> orders (order_id));
diesel::joinable!(order_reviews -> orders (order_id));
diesel::joinable!(offer_threads -> listings (listing_id));
diesel::joinable!(offer_threads -> orders (order_id));
diesel::joinable!(offer_versions -> offer_threads (thread_id));

diesel::allow_tables_to_appear_in_same_query!(
    unit_rejections,
    proof_units,
    jobs,
    periodic_tasks,
    users,
    manufacturers,
    rig_models,
    reference_prices,
    tier_reference_prices,
    sessions,
    refresh_tokens,
    email_tokens,
    api_keys,
    rate_limit_windows,
    login_throttle,
    audit_log,
    listings,
    listing_price_changes,
    condition_reports,
    listing_photos,
    listing_flags,
    hashrate_proofs,
    proof_shares,
    relay_jobs,
    orders,
    order_events,
    offer_threads,
    offer_versions,
    ledger_transactions,
    ledger_entries,
    idempotency_keys,
    btcpay_deliveries,
    settlement_offers,
    order_evidence,
    order_messages,
    order_reviews,
    units,
    serial_reports,
);

// The price index (src/index/, migration 2026-12-01-000010_price_index).

diesel::table! {
    price_observations (id) {
        id -> Int8,
        basis -> Text,
        event -> Text,
        listing_id -> Uuid,
        order_id -> Nullable<Uuid>,
        rig_model_id -> Uuid,
        tier -> Text,
        country -> Text,
        units -> Int4,
        unit_price_cents -> Int8,
        hashrate_hs -> Int8,
        usd_per_th_cents -> Int8,
        verified_hashrate_hs -> Nullable<Int8>,
        usd_per_verified_th_cents -> Nullable<Int8>,
        reference_unit_price_cents -> Nullable<Int8>,
        discount_bps -> Nullable<Int8>,
        fire_sale -> Bool,
        observed_at -> Timestamptz,
    }
}

// A view (migration 000030): the materialized buckets, with the ones that have
// pending observations computed live. Its key is the cell's: basis, period, cell,
// the grouped dimensions and the bucket's start.
diesel::table! {
    price_index_buckets (basis, period, cell, country, tier, rig_model_id, bucket_start) {
        basis -> Text,
        period -> Text,
        cell -> Text,
        country -> Nullable<Text>,
        tier -> Nullable<Text>,
        rig_model_id -> Nullable<Uuid>,
        bucket_start -> Date,
        observations -> Int4,
        fire_sales -> Int4,
        discounted -> Int4,
        p25_lo -> Nullable<Int8>,
        p25_hi -> Nullable<Int8>,
        p50_lo -> Nullable<Int8>,
        p50_hi -> Nullable<Int8>,
        p75_lo -> Nullable<Int8>,
        p75_hi -> Nullable<Int8>,
        discount_p50_lo -> Nullable<Int8>,
        discount_p50_hi -> Nullable<Int8>,
        new_listings -> Int4,
        new_fire_sales -> Int4,
        new_discounted -> Int4,
        new_discount_p50_lo -> Nullable<Int8>,
        new_discount_p50_hi -> Nullable<Int8>,
        new_fire_discount_p50_lo -> Nullable<Int8>,
        new_fire_discount_p50_hi -> Nullable<Int8>,
    }
}

diesel::table! {
    price_index_materialized (id) {
        id -> Int8,
        basis -> Text,
        period -> Text,
        cell -> Text,
        country -> Nullable<Text>,
        tier -> Nullable<Text>,
        rig_model_id -> Nullable<Uuid>,
        bucket_start -> Date,
        observations -> Int4,
        fire_sales -> Int4,
        discounted -> Int4,
        p25_lo -> Nullable<Int8>,
        p25_hi -> Nullable<Int8>,
        p50_lo -> Nullable<Int8>,
        p50_hi -> Nullable<Int8>,
        p75_lo -> Nullable<Int8>,
        p75_hi -> Nullable<Int8>,
        discount_p50_lo -> Nullable<Int8>,
        discount_p50_hi -> Nullable<Int8>,
        new_listings -> Int4,
        new_fire_sales -> Int4,
        new_discounted -> Int4,
        new_discount_p50_lo -> Nullable<Int8>,
        new_discount_p50_hi -> Nullable<Int8>,
        new_fire_discount_p50_lo -> Nullable<Int8>,
        new_fire_discount_p50_hi -> Nullable<Int8>,
    }
}

diesel::table! {
    price_index_months (id) {
        id -> Int8,
        basis -> Text,
        period -> Text,
        cell -> Text,
        country -> Nullable<Text>,
        tier -> Nullable<Text>,
        rig_model_id -> Nullable<Uuid>,
        month -> Date,
        prices -> Bytea,
        new_listings -> Bytea,
    }
}

diesel::table! {
    price_index_generation (singleton) {
        singleton -> Bool,
        generation -> Int8,
    }
}

diesel::table! {
    price_index_pending (id) {
        id -> Int8,
        basis -> Text,
        tier -> Text,
        country -> Text,
        rig_model_id -> Uuid,
        day -> Date,
    }
}

diesel::joinable!(price_observations -> listings (listing_id));
diesel::joinable!(price_observations -> rig_models (rig_model_id));

// Pairwise, so this block stays independent of the list above.
diesel::allow_tables_to_appear_in_same_query!(price_observations, price_index_buckets);
diesel::allow_tables_to_appear_in_same_query!(price_observations, listings);
diesel::allow_tables_to_appear_in_same_query!(price_observations, rig_models);
diesel::allow_tables_to_appear_in_same_query!(price_observations, manufacturers);
diesel::allow_tables_to_appear_in_same_query!(price_index_buckets, rig_models);
diesel::allow_tables_to_appear_in_same_query!(price_index_buckets, manufacturers);

diesel::table! {
    domain_events (id) {
        id -> Uuid,
        seq -> Int8,
        #[sql_name = "type"]
        type_ -> Text,
        subject_id -> Uuid,
        parties -> Array<Uuid>,
        data -> Jsonb,
        created_at -> Timestamptz,
        fanned_out_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    notifications (seq) {
        seq -> Int8,
        user_id -> Uuid,
        event_id -> Uuid,
        #[sql_name = "type"]
        type_ -> Text,
        subject_id -> Uuid,
        data -> Jsonb,
        created_at -> Timestamptz,
        read_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    notification_settings (user_id) {
        user_id -> Uuid,
        email_muted -> Array<Text>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Uuid,
        user_id -> Uuid,
        url -> Text,
        description -> Nullable<Text>,
        event_types -> Array<Text>,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        secret_sealed -> Bytea,
        previous_secret_sealed -> Nullable<Bytea>,
        previous_secret_until -> Nullable<Timestamptz>,
        failing_since -> Nullable<Timestamptz>,
        slow_until -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        endpoint_id -> Uuid,
        event_id -> Nullable<Uuid>,
        event_type -> Text,
        body -> Text,
        status -> Text,
        attempts -> Int4,
        last_attempt_at -> Nullable<Timestamptz>,
        response_status -> Nullable<Int4>,
        response_body -> Nullable<Text>,
        duration_ms -> Nullable<Int4>,
        last_error -> Nullable<Text>,
        next_attempt_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::allow_tables_to_appear_in_same_query!(webhook_deliveries, webhook_endpoints);

diesel::table! {
    saved_searches (id) {
        id -> Uuid,
        user_id -> Uuid,
        name -> Text,
        query -> Jsonb,
        alert -> Text,
        on_new_match -> Bool,
        on_price_drop -> Bool,
        discount_at_least_bps -> Nullable<Int8>,
        match_key -> Text,
        max_price_cents -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        country -> Nullable<Text>,
        min_discount_bps -> Nullable<Int8>,
    }
}

diesel::table! {
    saved_search_alerts (saved_search_id, listing_id, trigger) {
        saved_search_id -> Uuid,
        listing_id -> Uuid,
        trigger -> Text,
        user_id -> Uuid,
        alert -> Text,
        unit_price_cents -> Int8,
        discount_bps -> Nullable<Int8>,
        fired_at -> Timestamptz,
        digested_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    alert_digests (user_id, day) {
        user_id -> Uuid,
        day -> Date,
        alerts -> Int4,
        sent_at -> Timestamptz,
    }
}

diesel::table! {
    alert_unsubscribe_tokens (token_digest, saved_search_id) {
        token_digest -> Bytea,
        saved_search_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    event_stream_tickets (ticket_digest) {
        ticket_digest -> Bytea,
        user_id -> Uuid,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(saved_search_alerts -> saved_searches (saved_search_id));
diesel::allow_tables_to_appear_in_same_query!(saved_search_alerts, saved_searches);
