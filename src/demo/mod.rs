//! `rigmarket seed-demo`: a demo market generated from a fixed seed (see
//! [`scenario`]): the May-July 2021 China exodus, closed, plus a small market of
//! today with open orders. Idempotent: every account, lot and order has an
//! identity derived from the seed, so a second run finds them and creates
//! nothing. Runs only against a local deployment, because every demo account
//! shares one published password.
//!
//! Reads its configuration through `Config` (`DATABASE_URL`, `RIGMARKET_PUBLIC_URL`,
//! `RIGMARKET_FIRE_SALE_THRESHOLD_PCT`, ...).

pub mod farms;
mod market;
pub mod negotiations;
mod orders;
mod progress;
pub mod scenario;
mod searches;

use std::collections::BTreeMap;
use std::fmt;

use anyhow::Context;
use chrono::Duration;
use diesel_async::AsyncConnection;

use crate::accounts::provisioning::{self, ProvisionedAccount};
use crate::accounts::{AuthUser, ROLE_ADMIN};
use crate::clock::Clock;
use crate::config::Config;
use crate::db::ids::{ApiKeyId, UserId};
use crate::state::AppState;
use progress::Progress;
use scenario::Scenario;

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "rigmarket-demo";

#[derive(Debug, Default)]
pub struct Report {
    pub accounts_created: usize,
    pub accounts_found: usize,
    pub lots_created: usize,
    pub lots_found: usize,
    pub price_cuts: usize,
    /// Saved searches of the first buyer (alerts off).
    pub saved_searches: usize,
    pub orders: BTreeMap<&'static str, usize>,
    /// Offer threads by how they ended (or stand).
    pub negotiations: BTreeMap<&'static str, usize>,
    /// Lots sold by serial and their units.
    pub farm_lots: usize,
    pub farm_units: usize,
    pub observations_created: BTreeMap<String, i64>,
    pub public_url: String,
    pub analyst_key: String,
    pub analyst_email: String,
}

impl Report {
    pub fn created_anything(&self) -> bool {
        self.accounts_created
            + self.lots_created
            + self.price_cuts
            + self.orders.values().sum::<usize>()
            + self.negotiations.values().sum::<usize>()
            + self.saved_searches
            + self.farm_lots
            > 0
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.created_anything() {
            writeln!(f, "demo market loaded:")?;
            writeln!(f, "  accounts: {} created ({} already there)", self.accounts_created, self.accounts_found)?;
            writeln!(
                f,
                "  lots: {} published ({} already there), {} price cuts",
                self.lots_created, self.lots_found, self.price_cuts
            )?;
            writeln!(f, "  lots sold by serial: {} ({} units)", self.farm_lots, self.farm_units)?;
            let orders: Vec<String> = self.orders.iter().map(|(status, n)| format!("{n} {status}")).collect();
            writeln!(f, "  orders: {}", if orders.is_empty() { "none".into() } else { orders.join(", ") })?;
            let offers: Vec<String> = self.negotiations.iter().map(|(end, n)| format!("{n} {end}")).collect();
            writeln!(f, "  offer threads: {}", if offers.is_empty() { "none".into() } else { offers.join(", ") })?;
            writeln!(f, "  saved searches: {} (the first demo buyer's, alerts off)", self.saved_searches)?;
            let observations: Vec<String> =
                self.observations_created.iter().map(|(basis, n)| format!("{n} {basis}")).collect();
            writeln!(f, "  price observations: {}", observations.join(", "))?;
        } else {
            writeln!(
                f,
                "demo market already loaded: nothing created ({} accounts, {} lots found)",
                self.accounts_found, self.lots_found
            )?;
        }
        writeln!(
            f,
            "  every demo account's password: {DEMO_PASSWORD} (e.g. {}, seller01@demo.rigmarket.test)",
            self.analyst_email
        )?;
        let base = self.public_url.trim_end_matches('/');
        writeln!(f, "\nopen first:")?;
        writeln!(f, "  {base}/v1/price-index/latest")?;
        writeln!(
            f,
            "  curl -H 'X-Api-Key: {}' '{base}/v1/price-index/fire-sales?group_by=country&interval=week&from=2021-05-03&to=2021-08-01'",
            self.analyst_key
        )?;
        writeln!(
            f,
            "  curl -H 'X-Api-Key: {}' '{base}/v1/price-index/series?group_by=tier&interval=week&from=2021-05-03&to=2021-08-01'",
            self.analyst_key
        )?;
        write!(f, "  {base}/docs/")
    }
}

pub async fn seed(config: Config) -> anyhow::Result<Report> {
    anyhow::ensure!(
        config.is_local(),
        "seed-demo creates accounts with a published password; it only runs when RIGMARKET_PUBLIC_URL is local"
    );
    let progress = Progress::on_stderr();
    let phase = progress.phase("database", None);
    crate::prepare_database(&config).await?;
    let state = AppState::new(config, Clock::system()).await?;
    phase.finish("migrated, catalog ready");
    let now = state.clock.now();
    let scenario = scenario::build(now);
    // The demo's people stand for nobody: the events of their synthetic history
    // are not mailed (with `serve` running, its worker would send them all).
    let addresses = scenario.people().map(|person| person.email.clone()).collect::<Vec<_>>();
    crate::mail::suppressed_for(addresses, write_market(&state, &scenario, now, &progress)).await
}

async fn write_market(
    state: &AppState,
    scenario: &Scenario,
    now: chrono::DateTime<chrono::Utc>,
    progress: &Progress,
) -> anyhow::Result<Report> {
    let mut report = Report {
        public_url: state.config.public_url.to_string(),
        analyst_key: scenario.analyst_key.clone(),
        analyst_email: scenario.analyst.email.clone(),
        ..Default::default()
    };
    let mut conn = state.pool.get().await?;
    let before = crate::price_index::queries::observation_counts(&mut conn).await?;
    let people = ensure_people(&mut conn, scenario, now, &mut report, progress).await?;
    let seeder = Seeder {
        // Demo orders are paid by wire: no BTCPay client.
        orders: crate::orders::OrderContext::new(&state.config, Default::default(), state.storage.clone()),
        threshold: state.config.fire_sale_threshold_bps,
        scenario,
        people: &people,
        now,
    };
    let mut phase = progress.phase("lots", Some(scenario.lots.len() as u64));
    for lot in &scenario.lots {
        report.add(seeder.lot(&mut conn, lot).await?);
        phase.advance(&lot.published_at.format("%Y-%m-%d").to_string());
    }
    let orders: usize = report.orders.values().sum();
    phase
        .finish(&format!("{} published ({} already there), {} orders", report.lots_created, report.lots_found, orders));
    seeder.negotiate(&mut conn, &mut report, progress).await?;
    let phase = progress.phase("farms", None);
    let farms = farms::write(&mut conn, &seeder, now).await?;
    phase.finish(&format!(
        "{} lots sold by serial ({} units), {} orders by unit",
        farms.lots,
        farms.units,
        farms.orders.len()
    ));
    report.farm_lots = farms.lots;
    report.farm_units = farms.units;
    for status in farms.orders {
        *report.orders.entry(status).or_default() += 1;
    }
    // After the lots: searches saved before them would alert on their history.
    if let Some(buyer) = people.buyers.first() {
        report.saved_searches = searches::ensure_saved_searches(&mut conn, buyer.id(), now).await?;
    }
    let after = crate::price_index::queries::observation_counts(&mut conn).await?;
    report.observations_created =
        after.into_iter().map(|(basis, n)| (basis.clone(), n - before.get(&basis).copied().unwrap_or(0))).collect();
    Ok(report)
}

/// The demo's accounts, by role.
struct People {
    admin_id: UserId,
    seller_ids: Vec<UserId>,
    buyers: Vec<AuthUser>,
}

/// Every demo account (with the demo password) and the analyst's API key.
async fn ensure_people(
    conn: &mut diesel_async::AsyncPgConnection,
    scenario: &Scenario,
    now: chrono::DateTime<chrono::Utc>,
    report: &mut Report,
    progress: &Progress,
) -> anyhow::Result<People> {
    let mut phase = progress.phase("accounts", Some(scenario.people().count() as u64));
    let password = DEMO_PASSWORD.to_string();
    let hash = tokio::task::spawn_blocking(move || crate::accounts::password::hash_blocking(&password)).await??;
    let joined = scenario::opening() - Duration::days(30);
    let mut account = async |person: &scenario::Person, roles: &[&str]| -> anyhow::Result<UserId> {
        let provisioned = ProvisionedAccount {
            id: person.id,
            email: &person.email,
            display_name: &person.display_name,
            country: person.country,
            company: person.company.as_deref(),
            roles,
            password_hash: &hash,
            created_at: joined,
        };
        let (id, created) = provisioning::ensure_account(conn, &provisioned).await?;
        if created {
            report.accounts_created += 1;
        } else {
            report.accounts_found += 1;
        }
        phase.advance(&person.email);
        Ok(id)
    };
    let admin_id = account(&scenario.admin, &[ROLE_ADMIN]).await?;
    let analyst_id = account(&scenario.analyst, &[]).await?;
    let mut seller_ids = Vec::new();
    for seller in &scenario.sellers {
        seller_ids.push(account(&seller.person, &[]).await?);
    }
    let mut buyer_ids = Vec::new();
    for buyer in &scenario.buyers {
        buyer_ids.push(account(buyer, &[]).await?);
    }
    let key_id = ApiKeyId(uuid::Uuid::from_u128(analyst_id.0.as_u128() ^ 0x004b_4559));
    let key = &scenario.analyst_key;
    provisioning::ensure_api_key(conn, key_id, analyst_id, "demo research desk", key, 600, now).await?;
    phase.finish(&format!("{} created ({} already there)", report.accounts_created, report.accounts_found));
    let mut buyers = Vec::new();
    for id in buyer_ids {
        let account = crate::accounts::load_account(conn, id).await?.context("a demo buyer vanished")?;
        buyers.push(AuthUser { account, session_id: uuid::Uuid::nil() });
    }
    Ok(People { admin_id, seller_ids, buyers })
}

/// Writes the scenario's lots with their price cuts and orders.
struct Seeder<'a> {
    orders: crate::orders::OrderContext,
    threshold: i64,
    scenario: &'a Scenario,
    people: &'a People,
    now: chrono::DateTime<chrono::Utc>,
}

/// What one lot added to the market.
#[derive(Default)]
struct LotWritten {
    created: bool,
    price_cuts: usize,
    /// The final status of each order placed.
    orders: Vec<&'static str>,
}

impl Report {
    fn add(&mut self, lot: LotWritten) {
        if lot.created {
            self.lots_created += 1;
        } else {
            self.lots_found += 1;
        }
        self.price_cuts += lot.price_cuts;
        for status in lot.orders {
            *self.orders.entry(status).or_default() += 1;
        }
    }
}

impl Seeder<'_> {
    /// Today's negotiated lots (see `negotiations`), after the lots exist.
    async fn negotiate(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        report: &mut Report,
        progress: &Progress,
    ) -> anyhow::Result<()> {
        let plans = negotiations::plan(self.scenario, self.now);
        let mut phase = progress.phase("negotiations", Some(plans.len() as u64));
        for plan in &plans {
            let lot = &self.scenario.lots[plan.lot];
            let buyer = &self.people.buyers[plan.buyer];
            let person = &self.scenario.buyers[plan.buyer];
            let seller_id = self.people.seller_ids[lot.seller];
            if negotiations::write(conn, &self.orders, plan, lot, buyer, person, seller_id).await?.is_some() {
                *report.negotiations.entry(plan.ending.name()).or_default() += 1;
                if plan.ending == negotiations::Ending::Accepted {
                    *report.orders.entry("awaiting_payment").or_default() += 1;
                }
            }
            phase.advance(&plan.key);
        }
        phase.finish(&format!("{} offer threads", report.negotiations.values().sum::<usize>()));
        Ok(())
    }

    /// One lot and its whole history in ONE transaction: published, then its
    /// price cuts and orders in the order they happened (each order placed and
    /// driven to its final historic status), then closed at its seller's
    /// deadline if that has passed.
    ///
    /// One transaction, because a live worker on the same database (`serve`
    /// running beside the seeding) fires every timer it can see whose time has
    /// come, and for a 2021 lot every time has come: an order's payment deadline
    /// would expire it between its placement and its payment, the hosting sweep
    /// would expire the lot before its orders are placed. Committed only in its
    /// final state, a lot is never seen mid-history: the worker then finds
    /// timers of closed orders, which do nothing (a timer acts only in the status
    /// it was set for), and today's open orders, whose deadlines lie ahead. (The
    /// alternatives would reach into the orders code: holding row locks between
    /// steps, or scheduling timers differently for the demo.) An interrupted
    /// seeding also leaves whole lots only, which the next run skips.
    async fn lot(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        lot: &scenario::LotPlan,
    ) -> anyhow::Result<LotWritten> {
        conn.transaction(async |conn| self.lot_history(conn, lot).await).await
    }

    async fn lot_history(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        lot: &scenario::LotPlan,
    ) -> anyhow::Result<LotWritten> {
        let seller = &self.scenario.sellers[lot.seller];
        let seller_id = self.people.seller_ids[lot.seller];
        let mut written = LotWritten::default();
        if market::publish_lot(conn, lot, seller, seller_id, self.threshold).await?.is_none() {
            return Ok(written);
        }
        written.created = true;
        let mut cuts = lot.cuts.iter().peekable();
        for order in &lot.orders {
            while let Some((at, cut)) = cuts.next_if(|(at, _)| *at < order.placed_at) {
                written.price_cuts += usize::from(market::cut_price(conn, lot.id, *at, *cut, self.threshold).await?);
            }
            let parties = orders::Parties {
                buyer: &self.people.buyers[order.buyer],
                buyer_person: &self.scenario.buyers[order.buyer],
                seller_id,
                admin_id: self.people.admin_id,
            };
            if let Some(placed) = orders::run(conn, &self.orders, lot.id, order, &parties).await? {
                written.orders.push(placed.status().as_str());
            }
        }
        for (at, cut) in cuts {
            written.price_cuts += usize::from(market::cut_price(conn, lot.id, *at, *cut, self.threshold).await?);
        }
        let deadline = seller.hosting.as_ref().map(|h| h.power_off_at);
        if let Some(deadline) = deadline.filter(|d| *d < self.now && lot.published_at < *d) {
            market::close_lot(conn, lot, deadline).await?;
        }
        Ok(written)
    }
}
