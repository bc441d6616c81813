//! A packet capture on a lab segment, as an observer on that wire sees it: a raw
//! `AF_PACKET` socket in the lab's switch namespace, keeping the frames of the segment's
//! ports. No tcpdump needed.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

/// One IPv4 packet seen on the segment (other frames, ARP included, are counted apart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub source: Ipv4Addr,
    pub destination: Ipv4Addr,
    /// 6 TCP, 17 UDP, 1 ICMP, 50 ESP…
    pub protocol: u8,
    /// Source and destination port for TCP and UDP.
    pub ports: Option<(u16, u16)>,
    pub length: usize,
    /// An ICMP error's quoted packet (its IPv4 header and ports).
    pub quoted: Option<Box<Seen>>,
}

pub struct Capture {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Result<Vec<Seen>, String>>,
}

impl Capture {
    /// Start capturing in `switch` (a namespace `ip netns` knows) on the given ports.
    pub fn start(switch: &str, ports: Vec<String>) -> Capture {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let netns = std::path::Path::new("/run/netns").join(switch);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let result = capture(&netns, &ports, &flag, &ready_tx);
            let _ = ready_tx.send(());
            result
        });
        // The socket is open before start returns: nothing sent afterwards is missed.
        let _ = ready_rx.recv();
        Capture { stop, thread }
    }

    pub fn stop(self) -> Result<Vec<Seen>, String> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap_or_else(|_| Err("the capture thread panicked".into()))
    }
}

fn capture(
    netns: &std::path::Path,
    ports: &[String],
    stop: &AtomicBool,
    ready: &std::sync::mpsc::Sender<()>,
) -> Result<Vec<Seen>, String> {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open(netns).map_err(|e| format!("{}: {e}", netns.display()))?;
    // SAFETY: setns on this thread only; the descriptor is open for the call.
    if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(format!("setns: {}", std::io::Error::last_os_error()));
    }
    let indexes: Vec<i32> = ports
        .iter()
        .map(|p| {
            let name = std::ffi::CString::new(p.as_str()).expect("no NUL in a port name");
            // SAFETY: a valid NUL-terminated string.
            unsafe { libc::if_nametoindex(name.as_ptr()) as i32 }
        })
        .collect();
    if indexes.contains(&0) {
        return Err(format!("no such port among {ports:?}"));
    }
    // SAFETY: plain socket(2); the descriptor is closed below.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, (libc::ETH_P_ALL as u16).to_be() as i32) };
    if fd < 0 {
        return Err(format!("AF_PACKET socket: {}", std::io::Error::last_os_error()));
    }
    let timeout = libc::timeval { tv_sec: 0, tv_usec: 100_000 };
    // SAFETY: `timeout` outlives the call and its size is passed.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&timeout as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as u32,
        )
    };
    let _ = ready.send(());
    let mut seen = Vec::new();
    let mut buffer = vec![0u8; 65_536];
    while !stop.load(Ordering::SeqCst) {
        // SAFETY: sockaddr_ll is plain data; zeroed is a valid value.
        let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_ll>() as u32;
        // SAFETY: buffer and address are valid for the lengths given.
        let n = unsafe {
            libc::recvfrom(
                fd,
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                0,
                (&mut from as *mut libc::sockaddr_ll).cast(),
                &mut len,
            )
        };
        // Each frame crosses two ports of the bridge: keep the copy that enters it.
        if n <= 0 || !indexes.contains(&from.sll_ifindex) || from.sll_pkttype == libc::PACKET_OUTGOING {
            continue;
        }
        if let Some(s) = parse(&buffer[..n as usize]) {
            seen.push(s);
        }
    }
    // SAFETY: our own descriptor.
    unsafe { libc::close(fd) };
    Ok(seen)
}

/// An Ethernet frame's IPv4 header (and ports), or `None` for anything else.
pub fn parse(frame: &[u8]) -> Option<Seen> {
    if frame.len() < 34 || frame[12..14] != [0x08, 0x00] {
        return None;
    }
    ipv4(&frame[14..])
}

fn ipv4(ip: &[u8]) -> Option<Seen> {
    if ip.len() < 20 {
        return None;
    }
    let header = usize::from(ip[0] & 0x0f) * 4;
    let protocol = ip[9];
    let address = |at: usize| Ipv4Addr::new(ip[at], ip[at + 1], ip[at + 2], ip[at + 3]);
    let ports = (matches!(protocol, 6 | 17) && ip.len() >= header + 4).then(|| {
        (u16::from_be_bytes([ip[header], ip[header + 1]]), u16::from_be_bytes([ip[header + 2], ip[header + 3]]))
    });
    // ICMP destination unreachable / time exceeded quote the packet they answer.
    let quoted = (protocol == 1 && ip.len() >= header + 8 && matches!(ip[header], 3 | 11))
        .then(|| ipv4(&ip[header + 8..]).map(Box::new))
        .flatten();
    Some(Seen { source: address(12), destination: address(16), protocol, ports, length: ip.len(), quoted })
}

/// What an observer must never see on the Internet segment of a tunnel lab: anything but
/// IKE and NAT-T between the two outer addresses. One line per offending packet.
///
/// IKE/NAT-T here is UDP to or from port 500 or 4500: a NAT may give the inside end's
/// source port another number (the NAT-T lab's masquerade maps 500 to 277 when the far
/// end's own first IKE_SA_INIT already holds NAT:500 in its conntrack). An ICMP error
/// between the outer addresses that quotes such a packet (the NAT box's port unreachable
/// for the far end's first try) is IKE's too.
pub fn not_ike(seen: &[Seen], outer: &[Ipv4Addr]) -> Vec<String> {
    seen.iter().filter(|s| !is_ike(s, outer)).map(|s| format!("{s:?}")).collect()
}

fn is_ike(s: &Seen, outer: &[Ipv4Addr]) -> bool {
    let between = outer.contains(&s.source) && outer.contains(&s.destination);
    let udp = s.protocol == 17 && s.ports.is_some_and(|(a, b)| [500, 4500].iter().any(|p| *p == a || *p == b));
    let icmp = s.protocol == 1 && s.quoted.as_ref().is_some_and(|q| is_ike(q, outer));
    between && (udp || icmp)
}
