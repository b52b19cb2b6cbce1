//! What the orders' use cases need besides a connection and the time: the
//! operator's order rules, the fire-sale threshold settled prices are recorded
//! against, the payment providers, and object storage for evidence links. The
//! composition root builds it once; handlers extract `web::Data<OrderContext>`
//! and the timers' job handler holds a copy.

use crate::config::{Config, OrderSettings};
use crate::payments::Payments;
use crate::storage::ObjectStore;

#[derive(Clone)]
pub struct OrderContext {
    pub settings: OrderSettings,
    pub fire_sale_threshold_bps: i64,
    pub payments: Payments,
    pub storage: ObjectStore,
}

impl OrderContext {
    pub fn new(config: &Config, payments: Payments, storage: ObjectStore) -> Self {
        Self {
            settings: config.orders.clone(),
            fire_sale_threshold_bps: config.fire_sale_threshold_bps,
            payments,
            storage,
        }
    }
}
