//! Watching namespaces. A raw socket receives a copy of every locally delivered packet of
//! its protocol, IPv4 header included, after the namespace's input hooks (so after its
//! DNAT and input filter) and whether or not anything listens: that is exactly "what
//! arrived here". Listeners only exist so that senders get an answer.
//!
//! Sockets are created in the namespace by a short-lived thread (`netns`); the threads that
//! read them never change namespace. Every socket has a short receive timeout so the
//! threads notice the stop flag without busy-waiting.

use super::packet::{self, Icmp};
use super::send::read_line;
use super::{Observation, ProbeProtocol, Watch, netns};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often every thread looks at the stop flag.
const POLL: Duration = Duration::from_millis(50);
/// How long a listener waits for a connection's token line: probes send it at once.
const LINE_WAIT: Duration = Duration::from_millis(200);

/// Raw-socket watchers and lab listeners in many namespaces, stopped together.
pub struct Observers {
    stop: Arc<AtomicBool>,
    state: Arc<Mutex<State>>,
    threads: Vec<JoinHandle<()>>,
}

/// What the threads share: the arrivals, and the keys TCP listeners read from connections
/// (a SYN has no payload, so its key is only known once the connection sends its token).
#[derive(Default)]
struct State {
    seen: Vec<Observation>,
    /// (node, source, destination) as seen by the listener → key.
    tcp_keys: HashMap<(String, SocketAddrV4, SocketAddrV4), u32>,
}

/// What a thread does with its socket.
#[derive(Clone, Copy)]
enum Job {
    Raw(ProbeProtocol),
    TcpListener,
    UdpEcho,
}

impl Observers {
    /// Start watching every namespace: raw ICMP, TCP and UDP sockets per watch, plus TCP
    /// listeners and UDP echo servers where `listen`. Returns once every socket exists and is
    /// bound, so a probe sent afterwards cannot be missed; an error names the node.
    pub fn start(watches: &[Watch], tcp_ports: &[u16], udp_ports: &[u16]) -> Result<Observers, String> {
        let mut observers = Observers { stop: Arc::default(), state: Arc::default(), threads: Vec::new() };
        for watch in watches {
            let sockets = netns::in_netns(&watch.netns, || open(watch, tcp_ports, udp_ports))
                .and_then(|sockets| sockets)
                .map_err(|e| format!("cannot watch {}: {e}", watch.node))?;
            for (job, socket) in sockets {
                observers.spawn(&watch.node, job, socket).map_err(|e| format!("cannot watch {}: {e}", watch.node))?;
            }
        }
        Ok(observers)
    }

    /// Everything seen so far, in arrival order (cheap snapshot), so a caller can judge each
    /// probe as soon as its sender returns. A packet that arrives twice (a retransmitted SYN,
    /// a hairpin) is listed twice.
    pub fn seen(&self) -> Vec<Observation> {
        let state = lock(&self.state);
        state
            .seen
            .iter()
            .map(|o| {
                let mut o = o.clone();
                if o.protocol == ProbeProtocol::Tcp
                    && let (Some(sport), Some(dport)) = (o.source_port, o.destination_port)
                {
                    let flow =
                        (o.node.clone(), SocketAddrV4::new(o.source, sport), SocketAddrV4::new(o.destination, dport));
                    o.key = o.key.or(state.tcp_keys.get(&flow).copied());
                }
                o
            })
            .collect()
    }

    /// Stop all threads, join them and return everything seen.
    pub fn stop(mut self) -> Vec<Observation> {
        self.halt();
        self.seen()
    }

    /// Shared by `stop` and `Drop`: every thread sees the flag within one receive timeout.
    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }

    /// One thread per socket keeps each loop a plain blocking read with a timeout.
    fn spawn(&mut self, node: &str, job: Job, socket: Socket) -> std::io::Result<()> {
        let (stop, state, node) = (self.stop.clone(), self.state.clone(), node.to_string());
        let thread = std::thread::Builder::new().name(format!("natc-watch-{node}")).spawn(move || match job {
            Job::Raw(protocol) => watch_raw(&node, protocol, &socket, &stop, &state),
            Job::TcpListener => serve_tcp(&node, &socket, &stop, &state),
            Job::UdpEcho => serve_udp(&UdpSocket::from(socket), &stop),
        })?;
        self.threads.push(thread);
        Ok(())
    }
}

/// Dropping without `stop` still ends the threads: none may outlive the lab.
impl Drop for Observers {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Runs inside the namespace: every socket a watch needs, bound and with its timeout set.
fn open(watch: &Watch, tcp_ports: &[u16], udp_ports: &[u16]) -> Result<Vec<(Job, Socket)>, String> {
    let mut sockets = Vec::new();
    for (protocol, number) in [
        (ProbeProtocol::Icmp, Protocol::ICMPV4),
        (ProbeProtocol::Tcp, Protocol::TCP),
        (ProbeProtocol::Udp, Protocol::UDP),
    ] {
        let socket = Socket::new(Domain::IPV4, Type::RAW, Some(number))
            .map_err(|e| format!("cannot open a raw {protocol:?} socket: {e}"))?;
        // Many probes may arrive between two reads; the kernel caps this at rmem_max.
        let _ = socket.set_recv_buffer_size(1 << 20);
        sockets.push((Job::Raw(protocol), socket));
    }
    if watch.listen {
        for &port in tcp_ports {
            let socket = listening(Type::STREAM, port).map_err(|e| format!("cannot listen on TCP port {port}: {e}"))?;
            sockets.push((Job::TcpListener, socket));
        }
        for &port in udp_ports {
            let socket = listening(Type::DGRAM, port).map_err(|e| format!("cannot bind UDP port {port}: {e}"))?;
            sockets.push((Job::UdpEcho, socket));
        }
    }
    for (_, socket) in &sockets {
        socket.set_read_timeout(Some(POLL)).map_err(|e| format!("cannot set a receive timeout: {e}"))?;
    }
    Ok(sockets)
}

/// A server socket on 0.0.0.0:`port`, listening when it is TCP.
fn listening(kind: Type, port: u16) -> std::io::Result<Socket> {
    let socket = Socket::new(Domain::IPV4, kind, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&SockAddr::from(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port)))?;
    if kind == Type::STREAM {
        socket.listen(128)?;
    }
    Ok(socket)
}

/// Record every packet that counts until told to stop.
fn watch_raw(node: &str, protocol: ProbeProtocol, socket: &Socket, stop: &AtomicBool, state: &Mutex<State>) {
    let mut buffer = vec![0; 65536];
    while !stop.load(Ordering::Relaxed) {
        match (&*socket).read(&mut buffer) {
            Ok(len) => {
                if let Some(observation) = observe(node, protocol, &buffer[..len]) {
                    lock(state).seen.push(observation);
                }
            }
            Err(error) => pause_unless_timeout(error.kind()),
        }
    }
}

/// Accept connections and answer each token line with "ok", remembering the token's key
/// for the flow so the SYN's observation gets it.
fn serve_tcp(node: &str, listener: &Socket, stop: &AtomicBool, state: &Mutex<State>) {
    while !stop.load(Ordering::Relaxed) {
        let (connection, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(error) => {
                pause_unless_timeout(error.kind());
                continue;
            }
        };
        let local = connection.local_addr().ok().and_then(|a| a.as_socket_ipv4());
        let line = read_line(&connection, Instant::now() + LINE_WAIT);
        if let (Some(key), Some(source), Some(destination)) = (packet::probe_key(&line), peer.as_socket_ipv4(), local) {
            lock(state).tcp_keys.insert((node.to_string(), source, destination), key);
        }
        if connection.set_write_timeout(Some(LINE_WAIT)).is_ok() {
            let _ = (&connection).write_all(b"ok\n");
        }
    }
}

/// Echo every datagram to its sender behind `ANSWER_PREFIX`, which keeps the token in the
/// answer (the sender looks for it) but lets observers tell it from a probe.
fn serve_udp(socket: &UdpSocket, stop: &AtomicBool) {
    let mut buffer = vec![0; 65536];
    while !stop.load(Ordering::Relaxed) {
        match socket.recv_from(&mut buffer) {
            Ok((len, peer)) => {
                let answer = [packet::ANSWER_PREFIX, &buffer[..len]].concat();
                let _ = socket.send_to(&answer, peer);
            }
            Err(error) => pause_unless_timeout(error.kind()),
        }
    }
}

/// After an unexpected socket error, wait as long as a timeout would have, so a socket that
/// keeps failing cannot spin.
fn pause_unless_timeout(kind: ErrorKind) {
    if !matches!(kind, ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) {
        std::thread::sleep(POLL);
    }
}

/// A mutex whose holder panicked still holds consistent data (each update is one push or
/// insert), so observations are not lost to a poisoned lock.
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The observation a raw socket's packet makes, if it is one that counts: echo requests,
/// connection attempts (SYN without ACK) and UDP datagrams other than echo answers, from
/// anywhere but loopback.
fn observe(node: &str, protocol: ProbeProtocol, packet: &[u8]) -> Option<Observation> {
    let ip = packet::parse_ipv4(packet)?;
    if ip.source.is_loopback() {
        return None;
    }
    let (source_port, destination_port, key) = match protocol {
        ProbeProtocol::Icmp if ip.protocol == packet::ICMP => match packet::parse_icmp(ip.payload)? {
            Icmp::EchoRequest { payload, .. } => (None, None, packet::probe_key(payload)),
            _ => return None,
        },
        ProbeProtocol::Tcp if ip.protocol == packet::TCP => {
            let tcp = packet::parse_tcp(ip.payload).filter(|tcp| tcp.syn_only)?;
            (Some(tcp.source_port), Some(tcp.destination_port), None)
        }
        ProbeProtocol::Udp if ip.protocol == packet::UDP => {
            let udp = packet::parse_udp(ip.payload).filter(|udp| !packet::is_answer(udp.payload))?;
            (Some(udp.source_port), Some(udp.destination_port), packet::probe_key(udp.payload))
        }
        _ => return None,
    };
    Some(Observation {
        node: node.to_string(),
        protocol,
        source: ip.source,
        destination: ip.destination,
        source_port,
        destination_port,
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4(protocol: u8, source: [u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x45, 0];
        p.extend_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 0, 64, protocol, 0, 0]);
        p.extend_from_slice(&source);
        p.extend_from_slice(&[10, 99, 0, 2]);
        p.extend_from_slice(payload);
        p
    }

    fn udp(payload: &[u8]) -> Vec<u8> {
        let mut d = vec![0x9c, 0x41, 0, 53];
        d.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        d.extend_from_slice(&[0, 0]);
        d.extend_from_slice(payload);
        d
    }

    #[test]
    fn echo_requests_count_with_their_key() {
        let echo = packet::echo_request(9, 1, b"natc-probe-9");
        let o = observe("b", ProbeProtocol::Icmp, &ipv4(packet::ICMP, [10, 99, 0, 1], &echo)).expect("counted");
        assert_eq!(
            (o.source, o.destination, o.key),
            (Ipv4Addr::new(10, 99, 0, 1), Ipv4Addr::new(10, 99, 0, 2), Some(9))
        );
        assert_eq!((o.source_port, o.destination_port), (None, None));
        let mut reply = echo.clone();
        reply[0] = 0;
        assert!(observe("b", ProbeProtocol::Icmp, &ipv4(packet::ICMP, [10, 99, 0, 1], &reply)).is_none());
        assert!(observe("b", ProbeProtocol::Icmp, &ipv4(packet::ICMP, [127, 0, 0, 1], &echo)).is_none(), "loopback");
        assert!(observe("b", ProbeProtocol::Tcp, &ipv4(packet::ICMP, [10, 99, 0, 1], &echo)).is_none(), "wrong socket");
    }

    #[test]
    fn only_syns_count_for_tcp() {
        let mut syn = [0u8; 20];
        syn[..4].copy_from_slice(&[0x9c, 0x41, 0, 80]);
        syn[13] = 0x02;
        let o = observe("b", ProbeProtocol::Tcp, &ipv4(packet::TCP, [10, 99, 0, 1], &syn)).expect("syn");
        assert_eq!((o.source_port, o.destination_port, o.key), (Some(40001), Some(80), None));
        syn[13] = 0x10;
        assert!(observe("b", ProbeProtocol::Tcp, &ipv4(packet::TCP, [10, 99, 0, 1], &syn)).is_none());
    }

    #[test]
    fn udp_answers_are_not_probes() {
        let probe = ipv4(packet::UDP, [10, 99, 0, 1], &udp(b"natc-probe-1"));
        assert_eq!(observe("b", ProbeProtocol::Udp, &probe).expect("probe").key, Some(1));
        let other = ipv4(packet::UDP, [10, 99, 0, 1], &udp(b"dns"));
        assert_eq!(observe("b", ProbeProtocol::Udp, &other).expect("other traffic").key, None);
        let answer = ipv4(packet::UDP, [10, 99, 0, 1], &udp(b"ok natc-probe-1"));
        assert!(observe("b", ProbeProtocol::Udp, &answer).is_none());
    }

    #[test]
    fn garbage_never_panics() {
        for len in 0..80 {
            for fill in [0u8, 0x45, 0xff] {
                let bytes = vec![fill; len];
                for protocol in [ProbeProtocol::Icmp, ProbeProtocol::Tcp, ProbeProtocol::Udp] {
                    let _ = observe("b", protocol, &bytes);
                }
            }
        }
    }
}
