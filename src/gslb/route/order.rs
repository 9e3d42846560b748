//! `route: { order: [...] }`: one failover order for every client.

use super::{DcOrder, RouteKind, RouteMatch, Routed, Routing};
use crate::gslb::DcId;
use crate::gslb::resolve::ClientInfo;

/// A static failover order. The answer does not depend on the client: scope 0.
#[derive(Debug, Clone)]
pub struct OrderRoute {
    order: Box<[DcId]>,
}

impl OrderRoute {
    /// A route trying `order` first to last.
    pub fn new(order: &[DcId]) -> Self {
        OrderRoute {
            order: order.into(),
        }
    }
}

impl RouteKind for OrderRoute {
    #[inline]
    fn route(&self, _: &ClientInfo) -> Routed<'_> {
        Routed {
            routing: Routing::Failover(DcOrder::only(&self.order)),
            scope: 0,
            matched: RouteMatch::Static,
        }
    }
    fn describe(&self) -> String {
        "failover order".into()
    }
}
