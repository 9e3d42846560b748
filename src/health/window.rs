//! STUB (replaced by the real implementation on merge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    None,
    WentDown,
    WentUp,
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowState {
    pub up: bool,
    pub results: Vec<bool>,
}
#[derive(Debug, Clone)]
pub struct Window {
    up: bool,
    results: Vec<bool>,
    down: (u32, u32),
    upk: (u32, u32),
}
impl Window {
    pub fn new(down: (u32, u32), up: (u32, u32), initially_up: bool) -> Self {
        Window {
            up: initially_up,
            results: vec![],
            down,
            upk: up,
        }
    }
    pub fn record(&mut self, ok: bool) -> Transition {
        self.results.push(ok);
        let n = self.down.1.max(self.upk.1) as usize;
        if self.results.len() > n {
            self.results.remove(0);
        }
        if self.up && self.failures_in(self.down.1) >= self.down.0 {
            self.up = false;
            return Transition::WentDown;
        }
        if !self.up && self.successes_in(self.upk.1) >= self.upk.0 {
            self.up = true;
            return Transition::WentUp;
        }
        Transition::None
    }
    pub fn is_up(&self) -> bool {
        self.up
    }
    pub fn failures_in(&self, last: u32) -> u32 {
        self.results
            .iter()
            .rev()
            .take(last as usize)
            .filter(|r| !**r)
            .count() as u32
    }
    pub fn successes_in(&self, last: u32) -> u32 {
        self.results
            .iter()
            .rev()
            .take(last as usize)
            .filter(|r| **r)
            .count() as u32
    }
    pub fn len(&self) -> u32 {
        self.results.len() as u32
    }
    pub fn snapshot(&self) -> WindowState {
        WindowState {
            up: self.up,
            results: self.results.clone(),
        }
    }
    pub fn restore(down: (u32, u32), up: (u32, u32), s: &WindowState) -> Self {
        Window {
            up: s.up,
            results: s.results.clone(),
            down,
            upk: up,
        }
    }
}
