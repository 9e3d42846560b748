//! `route: all`: every up datacenter contributes to every answer.

use super::{RouteKind, RouteMatch, Routed, Routing};
use crate::gslb::resolve::ClientInfo;

/// The union route. Without client hashing the answer does not depend on the client: scope 0.
#[derive(Debug, Clone, Default)]
pub struct AllRoute;

impl RouteKind for AllRoute {
    #[inline]
    fn route(&self, _: &ClientInfo) -> Routed<'_> {
        Routed {
            routing: Routing::Union,
            scope: 0,
            matched: RouteMatch::Everyone,
        }
    }
    fn describe(&self) -> String {
        "all: every up datacenter contributes".into()
    }
}
