//! Listing search: only live listings of sellers in good standing, every filter,
//! every sort against an order worked out by hand from the seeded catalog, and
//! keyset pagination that neither repeats nor skips, even while listings are
//! being published.

mod crowd;
mod filters;
mod ordering;

use std::collections::HashMap;

use chrono::Duration;
use serde_json::{json, Value};

use crate::support::listings::{
    add_report, approve, at, create_active, create_listing, id_of, model_id, ok_json, post_empty, publish, search,
    search_all, set_units, submit,
};
use crate::support::{assert_problem, spawn_app, TestApp};

/// One lot of the test market. References on 2026-01-05 (latest tier points of
/// 2022-12-25: under38 $15.71/TH, 38to68 $10.23/TH, above68 $4.72/TH):
///
/// | lot | model (tier, J/TH) | price | $/TH | reference | discount |
/// |---|---|---|---|---|---|
/// | L1 | S19 Pro (25to38, 29.55) | 95,000 | 8.64 | 172,810 | 45.03 |
/// | L2 | S21 (under19, 17.5) | 300,000 | 15.00 | 314,200 | 4.52 |
/// | L3 | M30S 88T (38to68, 38.0) | 60,000 | 6.82 | 90,024 | 33.35 |
/// | L4 | S9 (above68, 98.0) | 8,000 | 5.93 | 6,372 | -25.55 |
/// | L5 | A1366 (25to38, 25.0) | 150,000 | 11.54 | 204,230 | 26.55 |
/// | L6 | M56S++ (19to25, 22.0) | 350,000 | 15.22 | 361,330 | 3.14 |
/// | L7 | S19 Pro (25to38, 29.55) | 95,000 | 8.64 | 172,810 | 45.03 |
struct Lot {
    label: &'static str,
    model: &'static str,
    title: &'static str,
    description: &'static str,
    country: &'static str,
    price: i64,
    quantity: i32,
    power_off_at: Option<&'static str>,
    grades: &'static [&'static str],
}

const LOTS: [Lot; 7] = [
    Lot {
        label: "L1",
        model: "Antminer S19 Pro",
        title: "Antminer S19 Pro lot, Ekibastuz",
        description: "Air cooled, stock firmware.",
        country: "KZ",
        price: 95_000,
        quantity: 10,
        power_off_at: Some("2026-02-01T12:00:00Z"),
        grades: &["B"],
    },
    Lot {
        label: "L2",
        model: "Antminer S21",
        title: "S21 fresh from the warehouse",
        description: "Sealed boxes.",
        country: "US",
        price: 300_000,
        quantity: 2,
        power_off_at: None,
        grades: &["A"],
    },
    Lot {
        label: "L3",
        model: "Whatsminer M30S 88T",
        title: "Whatsminer M30S lot, Sichuan",
        description: "Hydro season is over.",
        country: "CN",
        price: 60_000,
        quantity: 50,
        power_off_at: Some("2026-01-20T00:00:00Z"),
        grades: &["D"],
    },
    Lot {
        label: "L4",
        model: "Antminer S9",
        title: "Old S9 units",
        description: "Good for heating a greenhouse.",
        country: "KZ",
        price: 8_000,
        quantity: 100,
        power_off_at: None,
        grades: &[],
    },
    Lot {
        label: "L5",
        model: "Avalon A1366",
        title: "Avalon A1366 batch",
        description: "Two years in a container.",
        country: "CA",
        price: 150_000,
        quantity: 5,
        power_off_at: Some("2026-03-15T00:00:00Z"),
        grades: &["C"],
    },
    Lot {
        label: "L6",
        model: "Whatsminer M56S++",
        title: "Whatsminer M56S++ hydro unit",
        description: "Single unit, tested.",
        country: "KZ",
        price: 350_000,
        quantity: 1,
        power_off_at: None,
        // The latest report decides: B, not A.
        grades: &["A", "B"],
    },
    Lot {
        label: "L7",
        model: "Antminer S19 Pro",
        title: "S19 Pro spares, Texas",
        description: "Same model and price as L1.",
        country: "US",
        price: 95_000,
        quantity: 3,
        power_off_at: None,
        grades: &[],
    },
];

struct Market {
    app: TestApp,
    seller: String,
    admin: String,
    labels: HashMap<String, &'static str>,
}

impl Market {
    fn label(&self, id: &str) -> &'static str {
        self.labels.get(id).copied().unwrap_or("new")
    }

    fn labels_of(&self, items: &[Value]) -> Vec<&'static str> {
        items.iter().map(|item| self.label(item["id"].as_str().unwrap())).collect()
    }

    async fn labels(&self, query: &str) -> Vec<&'static str> {
        self.labels_of(&search_all(&self.app, query).await)
    }

    async fn sorted_labels(&self, query: &str) -> Vec<&'static str> {
        let mut labels = self.labels(query).await;
        labels.sort();
        labels
    }
}

/// Publishes L1..L7: L1-L5 one second apart, then L7 and L6 in the same instant
/// (so `newest` must break the tie by id).
async fn market() -> Market {
    let app = spawn_app().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let mut ids = HashMap::new();
    for lot in &LOTS {
        let model = model_id(&app, lot.model).await;
        let mut overrides = json!({
            "rig_model_id": model, "title": lot.title, "description": lot.description,
            "country": lot.country, "unit_price_cents": lot.price, "quantity": lot.quantity,
        });
        if let Some(power_off_at) = lot.power_off_at {
            overrides["hosting"] =
                json!({"facility": "Hosting DC", "country": lot.country, "power_off_at": power_off_at});
        }
        let id = id_of(&create_listing(&app, &seller, overrides).await);
        for grade in lot.grades {
            add_report(&app, &seller, &id, grade).await;
        }
        submit(&app, &seller, &id).await;
        ids.insert(lot.label, id);
    }
    for label in ["L1", "L2", "L3", "L4", "L5"] {
        app.clock.advance(Duration::seconds(1));
        approve(&app, &admin, &ids[label]).await;
    }
    app.clock.advance(Duration::seconds(1));
    approve(&app, &admin, &ids["L7"]).await;
    approve(&app, &admin, &ids["L6"]).await;
    let labels = ids.iter().map(|(label, id)| (id.clone(), *label)).collect();
    Market { app, seller, admin, labels }
}

const SORTS: [(&str, [&str; 7]); 6] = [
    ("newest", ["L7", "L6", "L5", "L4", "L3", "L2", "L1"]),
    ("price_asc", ["L4", "L3", "L1", "L7", "L5", "L2", "L6"]),
    ("price_desc", ["L6", "L2", "L5", "L7", "L1", "L3", "L4"]),
    ("usd_per_th_asc", ["L4", "L3", "L1", "L7", "L5", "L2", "L6"]),
    ("discount_desc", ["L7", "L1", "L3", "L5", "L2", "L6", "L4"]),
    ("efficiency_asc", ["L2", "L6", "L5", "L1", "L7", "L3", "L4"]),
];
