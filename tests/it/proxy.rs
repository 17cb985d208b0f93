//! A fault-injecting TCP proxy for the resilience tests: it listens on 127.0.0.1:0 and forwards
//! every connection to an upstream address (PostgreSQL) until it is taken down. Down, it cuts
//! every live connection (a reset) and treats new ones as `Down` says: reset at once, as a load
//! balancer in front of a dead server does, or refused, as the host of a stopped server does.
//! Up again, it forwards new connections as before.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// How the proxy treats connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Up,
    /// New connections are accepted and reset at once.
    Reset,
    /// The port is closed: new connections are refused (`ECONNREFUSED`).
    Refuse,
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    mode: watch::Sender<Mode>,
    task: tokio::task::JoinHandle<()>,
}

/// Closes `s` with a reset rather than an orderly shutdown.
fn reset(s: TcpStream) {
    let _ = s.set_zero_linger();
    drop(s);
}

impl FaultProxy {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let (mode, watch) = watch::channel(Mode::Up);
        let task = tokio::spawn(accept_loop(listener, addr, upstream, watch));
        FaultProxy { addr, mode, task }
    }

    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }

    pub fn down(&self, mode: Mode) {
        assert_ne!(mode, Mode::Up);
        self.set(mode);
    }

    pub fn up(&self) {
        self.set(Mode::Up);
    }

    /// `url` (`postgres://user@host:port/db`) with its host and port replaced by the proxy's.
    pub fn rewrite(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("a URL");
        let (auth_host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let user = auth_host
            .rsplit_once('@')
            .map(|(u, _)| format!("{u}@"))
            .unwrap_or_default();
        format!("{scheme}://{user}{}/{path}", self.addr)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Where `url` (`postgres://user@host:port/db`) points.
pub fn upstream_of(url: &str) -> SocketAddr {
    use std::net::ToSocketAddrs;
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let host_port = rest.split('/').next().unwrap_or(rest);
    let host_port = host_port.rsplit_once('@').map_or(host_port, |(_, h)| h);
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    host_port
        .to_socket_addrs()
        .expect("resolve the database host")
        .next()
        .expect("an address for the database host")
}

async fn accept_loop(
    listener: TcpListener,
    addr: SocketAddr,
    upstream: SocketAddr,
    mut watch: watch::Receiver<Mode>,
) {
    let mut listener = Some(listener);
    loop {
        let mode = *watch.borrow_and_update();
        if mode == Mode::Refuse {
            // Close the port until the mode changes, then listen on it again.
            listener = None;
            if watch.changed().await.is_err() {
                return;
            }
            continue;
        }
        if listener.is_none() {
            let mut tries = 0;
            listener = loop {
                match TcpListener::bind(addr).await {
                    Ok(l) => break Some(l),
                    Err(e) if tries >= 100 => panic!("cannot listen on {addr} again: {e}"),
                    Err(_) => {
                        tries += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            };
        }
        let Some(l) = listener.as_ref() else { return };
        tokio::select! {
            accepted = l.accept() => {
                let Ok((client, _)) = accepted else { continue };
                match *watch.borrow() {
                    Mode::Up => {
                        tokio::spawn(forward(client, upstream, watch.clone()));
                    }
                    _ => reset(client),
                }
            }
            changed = watch.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

/// Forwards one connection until either side closes or the proxy goes down (then resets both).
async fn forward(mut client: TcpStream, upstream: SocketAddr, mut watch: watch::Receiver<Mode>) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        reset(client);
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let cut = async {
        loop {
            if *watch.borrow_and_update() != Mode::Up {
                return;
            }
            if watch.changed().await.is_err() {
                return;
            }
        }
    };
    let was_cut = tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => false,
        _ = cut => true,
    };
    if was_cut {
        reset(client);
        reset(server);
    }
}
