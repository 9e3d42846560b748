//! STUB (replaced by the real implementation on merge).
use crate::gslb::Check;
use std::net::IpAddr;
use std::time::Duration;
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    Ok,
    Timeout,
    Refused,
    Reset,
    ConnectError,
    HttpStatus(u16),
    TlsError,
    BodyMismatch,
    BodyTooSlow,
    Other,
}
impl ProbeOutcome {
    pub fn is_ok(&self) -> bool {
        *self == ProbeOutcome::Ok
    }
    pub fn label(&self) -> &'static str {
        "ok"
    }
    pub fn describe(&self) -> String {
        format!("{self:?}")
    }
}
#[derive(Debug, Clone)]
pub struct ProbeResult {
    pub outcome: ProbeOutcome,
    pub latency: Duration,
}
#[derive(Debug, Clone)]
pub struct Prober {
    port: u16,
    timeout: Duration,
}
impl Prober {
    pub fn new(check: &Check) -> Result<Prober, String> {
        Ok(Prober {
            port: check.port,
            timeout: check.timeout,
        })
    }
    pub async fn probe(&self, target: IpAddr) -> ProbeResult {
        let t = std::time::Instant::now();
        let r = tokio::time::timeout(
            self.timeout,
            tokio::net::TcpStream::connect((target, self.port)),
        )
        .await;
        let outcome = match r {
            Ok(Ok(_)) => ProbeOutcome::Ok,
            Ok(Err(_)) => ProbeOutcome::Refused,
            Err(_) => ProbeOutcome::Timeout,
        };
        ProbeResult {
            outcome,
            latency: t.elapsed(),
        }
    }
}
