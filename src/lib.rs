//! dynadns: an authoritative DNS server with GSLB answers computed per query.
//!
//! How the modules fit together (data flows one way, top to bottom):
//!
//! - [`yaml`]: the YAML tree with positions that `config` and `zone` both read.
//! - [`config`]: `dynadns.yaml` → validated settings; every
//!   mistake is a [`diag::Diagnostic`] naming file, line and column.
//! - [`zone`]: zone files → [`zone::Zone`] (owner map, RR sets, wildcard/delegation/ENT flags)
//!   and the RFC 1034 lookup; [`import`] turns an RFC 1035 master file into zone YAML.
//! - [`gslb`]: resources (pools, routes, answer policies) compiled against health states, and
//!   the per-query selection; [`geo`] orders datacenters for a client; [`health`] holds states.
//! - [`snapshot`]: the immutable [`snapshot::Snapshot`] the query path reads through `arc-swap`.
//! - [`wire`]: packet parsing and response writing; knows DNS, not zones.
//! - [`answer`]: one query in, one response out; no locks, no allocation.
//! - [`health`] probes targets and publishes states; [`admin`] serves /status, /metrics and
//!   forced states over HTTP.
//! - [`rrl`] and [`cookie`]: response rate limiting, and the DNS cookies that exempt proven
//!   clients from it.
//! - [`server`]: UDP worker threads, TCP tasks, reload on SIGHUP, graceful stop.
//! - [`explain`]: the decision path for one name and client, for operators.
//! - [`fsread`]: every file is read through it: regular files only, under a size limit.

pub mod admin;
pub mod answer;
pub mod config;
pub mod cookie;
pub mod diag;
pub mod duration;
pub mod explain;
pub mod fsread;
pub mod geo;
pub mod gslb;
pub mod health;
pub mod import;
pub mod rrl;
pub mod server;
pub mod snapshot;
pub mod wire;
pub mod yaml;
pub mod zone;
