//! The immutable world the query path reads.
//!
//! A [`Snapshot`] holds everything needed to answer a query: zones, limits, and (as they arrive)
//! resource states. It is built completely before it is published through an [`ArcSwap`], so a
//! query sees either the old or the new configuration, never a mix, and never waits for a lock.
//! Reloads, health changes and geo updates publish new snapshots.

use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwap;

use crate::config::{Limits, Loaded, ServerConfig};
use crate::gslb::Gslb;
use crate::gslb::resolve::{Resolver, compile_resources, recompile_resources};
use crate::health::{HealthStates, initial_states};
use crate::zone::ZoneSet;

/// Everything a query needs, frozen.
#[derive(Debug)]
pub struct Snapshot {
    /// All zones (shared between snapshots that differ only in health).
    pub zones: Arc<ZoneSet>,
    /// Resources, datacenters, checks and geo maps.
    pub gslb: Arc<Gslb>,
    /// Health state of every target.
    pub health: HealthStates,
    /// Each resource compiled for `health` (route, policy, members), indexed like
    /// `gslb.resources`: all the query path reads about a resource.
    pub resolvers: Box<[Resolver]>,
    /// Protocol limits.
    pub limits: Limits,
    /// The response rate limiting table for `limits.rrl`, shared by every UDP worker; made
    /// anew when a configuration is applied, kept across health changes.
    pub rrl: Arc<crate::rrl::Limiter>,
    /// The key of our DNS server cookies: the configured one, or this process's random one.
    pub cookie_secret: crate::cookie::Secret,
    /// Pre-encoded CHAOS TXT answers.
    pub chaos: Chaos,
    /// Increases with every published snapshot, for logs and the status API.
    pub generation: u64,
    /// When the configuration was loaded.
    pub loaded_at: SystemTime,
}

/// Pre-encoded answers to `version.bind` and `id.server` (CHAOS class TXT).
#[derive(Debug, Default)]
pub struct Chaos {
    /// TXT rdata for version.bind / version.server, or None to refuse.
    pub version: Option<Box<[u8]>>,
    /// TXT rdata for id.server / hostname.bind, or None to refuse.
    pub identity: Option<Box<[u8]>>,
}

fn txt_rdata(s: &str) -> Option<Box<[u8]>> {
    if s.is_empty() {
        return None;
    }
    let b = &s.as_bytes()[..s.len().min(255)];
    let mut v = Vec::with_capacity(b.len() + 1);
    v.push(b.len() as u8);
    v.extend_from_slice(b);
    Some(v.into_boxed_slice())
}

impl Snapshot {
    /// Builds a snapshot from a freshly loaded configuration, with the health states known
    /// without probing (for `check` and `explain`).
    pub fn build(loaded: Loaded, generation: u64) -> Snapshot {
        let Loaded { config, zones } = loaded;
        let health = initial_states(&config.gslb);
        Snapshot::assemble(&config, Arc::new(zones), generation, health)
    }

    /// Builds a snapshot from its parts: the server's path at start, reload and health changes.
    pub fn assemble(
        config: &ServerConfig,
        zones: Arc<ZoneSet>,
        generation: u64,
        health: HealthStates,
    ) -> Snapshot {
        let gslb = Arc::new(config.gslb.clone());
        Snapshot {
            resolvers: compile_resources(
                &gslb,
                config.limits.max_answers,
                &|t| health.is_up(t),
                &health.overrides,
            ),
            zones,
            gslb,
            health,
            limits: config.limits.clone(),
            rrl: Arc::new(crate::rrl::Limiter::new(&config.limits.rrl)),
            cookie_secret: config
                .limits
                .cookie_secret
                .unwrap_or_else(crate::cookie::Secret::process_random),
            chaos: Chaos {
                version: txt_rdata(&config.server.version),
                identity: txt_rdata(&config.server.identity),
            },
            generation,
            loaded_at: SystemTime::now(),
        }
    }
}

impl Snapshot {
    /// The same configuration with other health states: zones are shared, views recompiled.
    pub fn with_health(&self, health: HealthStates, generation: u64) -> Snapshot {
        Snapshot {
            zones: self.zones.clone(),
            gslb: self.gslb.clone(),
            resolvers: recompile_resources(
                &self.resolvers,
                &self.gslb,
                &|t| health.is_up(t),
                &health.overrides,
            ),
            health,
            limits: self.limits.clone(),
            rrl: self.rrl.clone(),
            cookie_secret: self.cookie_secret,
            chaos: Chaos {
                version: self.chaos.version.clone(),
                identity: self.chaos.identity.clone(),
            },
            generation,
            loaded_at: self.loaded_at,
        }
    }
}

/// The published snapshot, shared by all workers.
pub type SharedSnapshot = Arc<ArcSwap<Snapshot>>;
