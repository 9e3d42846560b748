//! STUB (replaced by the real implementation on merge).
use super::probe::ProbeResult;
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub total: u64,
}
impl Stats {
    pub fn record(&mut self, _r: &ProbeResult) {
        self.total += 1;
    }
}
/// STUB
pub fn render_prometheus(_o: &mut String, _t: &[super::monitor::TargetStatus]) {}
