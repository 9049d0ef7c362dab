//! A small HTTP/1.1 file server on 127.0.0.1:0 for download tests: GET with Range support,
//! per-chunk delay, and connections dropped mid-body on demand. It counts requests, Range
//! requests and connections in flight.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

#[derive(Default)]
pub struct ServerState {
    files: Mutex<HashMap<String, Arc<Vec<u8>>>>,
    /// Path → bytes after which the next responses for it are cut (one entry per cut).
    cuts: Mutex<HashMap<String, Vec<u64>>>,
    pub delay_per_chunk: Mutex<Duration>,
    pub requests: AtomicUsize,
    pub range_requests: AtomicUsize,
    pub active: AtomicUsize,
    pub peak_active: AtomicUsize,
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub state: Arc<ServerState>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

const CHUNK: usize = 64 * 1024;

impl TestServer {
    pub fn start() -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(ServerState::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let handle = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    let st = st.clone();
                    std::thread::spawn(move || serve(conn, &st));
                }
            }
        });
        TestServer { addr, state, stop, handle: Some(handle) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn add_file(&self, path: &str, bytes: Vec<u8>) -> Arc<Vec<u8>> {
        let bytes = Arc::new(bytes);
        self.state.files.lock().unwrap().insert(path.to_string(), bytes.clone());
        bytes
    }

    /// The next responses for `path` close the connection after these many body bytes.
    pub fn cut(&self, path: &str, after: Vec<u64>) {
        self.state.cuts.lock().unwrap().insert(path.to_string(), after);
    }

    pub fn set_delay(&self, d: Duration) {
        *self.state.delay_per_chunk.lock().unwrap() = d;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn serve(conn: TcpStream, st: &ServerState) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut range_start: Option<u64> = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("range: bytes=") {
            range_start = v.trim().trim_end_matches('-').parse().ok();
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_string();
    st.requests.fetch_add(1, Ordering::SeqCst);
    let now = st.active.fetch_add(1, Ordering::SeqCst) + 1;
    st.peak_active.fetch_max(now, Ordering::SeqCst);
    respond(conn, st, &path, range_start);
    st.active.fetch_sub(1, Ordering::SeqCst);
}

fn respond(mut conn: TcpStream, st: &ServerState, path: &str, range_start: Option<u64>) {
    let Some(body) = st.files.lock().unwrap().get(path).cloned() else {
        let _ = conn.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let total = body.len() as u64;
    let start = range_start.unwrap_or(0).min(total);
    let head = if range_start.is_some() {
        st.range_requests.fetch_add(1, Ordering::SeqCst);
        format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{total}\r\nConnection: close\r\n\r\n",
            total - start,
            total.saturating_sub(1)
        )
    } else {
        format!("HTTP/1.1 200 OK\r\nContent-Length: {total}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n")
    };
    if conn.write_all(head.as_bytes()).is_err() {
        return;
    }
    let cut = {
        let mut cuts = st.cuts.lock().unwrap();
        cuts.get_mut(path).and_then(|v| if v.is_empty() { None } else { Some(v.remove(0)) })
    };
    let delay = *st.delay_per_chunk.lock().unwrap();
    let mut sent = 0u64;
    let remaining = total - start;
    for chunk in body[start as usize..].chunks(CHUNK) {
        let chunk = match cut {
            Some(c) if sent + chunk.len() as u64 > c => &chunk[..(c - sent) as usize],
            _ => chunk,
        };
        if conn.write_all(chunk).is_err() {
            return;
        }
        sent += chunk.len() as u64;
        if cut.is_some_and(|c| sent >= c) {
            let _ = conn.shutdown(std::net::Shutdown::Both);
            return;
        }
        // No pause after the last chunk: the response is over once its bytes are out.
        if !delay.is_zero() && sent < remaining {
            std::thread::sleep(delay);
        }
    }
}
