//! A minimal UDP DNS load generator for multi-core scaling runs where dnsperf is not available.
//!
//! Each thread owns one connected socket and keeps `--outstanding` queries in flight: every
//! answer received sends the next query; a quiet period of 20 ms re-primes the window (lost
//! packets). It reports answers per second over the whole run. It checks only that an answer
//! came back with the right ID; correctness is the test suite's job.
//!
//!   cargo build --release --example udpload
//!   target/release/examples/udpload 127.0.0.1:5353 www.example.com 4 64 10

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn query(id: u16, name: &str) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    q
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 {
        eprintln!("usage: udpload SERVER:PORT NAME THREADS OUTSTANDING SECONDS");
        std::process::exit(2);
    }
    let server = args[1].clone();
    let name = args[2].clone();
    let threads: usize = args[3].parse().expect("THREADS");
    let outstanding: u16 = args[4].parse().expect("OUTSTANDING");
    let seconds: u64 = args[5].parse().expect("SECONDS");
    let answered = Arc::new(AtomicU64::new(0));
    let sent = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + Duration::from_secs(seconds);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (server, name) = (server.clone(), name.clone());
            let (answered, sent) = (answered.clone(), sent.clone());
            std::thread::spawn(move || {
                let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
                sock.connect(&server).expect("connect");
                sock.set_read_timeout(Some(Duration::from_millis(20)))
                    .expect("timeout");
                let mut id: u16 = 0;
                let mut buf = [0u8; 4096];
                let (mut n_ans, mut n_sent) = (0u64, 0u64);
                let send = |id: &mut u16, n_sent: &mut u64| {
                    *id = id.wrapping_add(1);
                    if sock.send(&query(*id, &name)).is_ok() {
                        *n_sent += 1;
                    }
                };
                for _ in 0..outstanding {
                    send(&mut id, &mut n_sent);
                }
                while Instant::now() < end {
                    match sock.recv(&mut buf) {
                        Ok(n) if n >= 12 => {
                            n_ans += 1;
                            send(&mut id, &mut n_sent);
                        }
                        Ok(_) => {}
                        Err(_) => {
                            for _ in 0..outstanding {
                                send(&mut id, &mut n_sent);
                            }
                        }
                    }
                }
                answered.fetch_add(n_ans, Ordering::Relaxed);
                sent.fetch_add(n_sent, Ordering::Relaxed);
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    let a = answered.load(Ordering::Relaxed);
    println!(
        "answered {a} of {} sent in {seconds} s: {:.0} qps",
        sent.load(Ordering::Relaxed),
        a as f64 / seconds as f64
    );
}
