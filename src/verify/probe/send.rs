//! Sending one probe from a namespace and waiting for what comes back. TCP and UDP sockets
//! ask for IP_RECVERR, so an ICMP error is read from the error queue with its sender and
//! exact code instead of being guessed from errno (EHOSTUNREACH covers host unreachable,
//! host prohibited and filtered alike; without it UDP hears of port unreachable only).

use super::packet::{self, Icmp};
use super::{Probe, ProbeProtocol, SendOutcome, netns, source_port};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// Send one probe and wait for its reply (blocking, at most ~probe.timeout).
pub fn send(probe: &Probe) -> SendOutcome {
    let deadline = Instant::now() + probe.timeout;
    let outcome = netns::in_netns(&probe.netns, || match (probe.protocol, probe.port) {
        (ProbeProtocol::Icmp, _) => icmp(probe, deadline),
        (ProbeProtocol::Tcp, Some(port)) => tcp(probe, port, deadline),
        (ProbeProtocol::Udp, Some(port)) => udp(probe, port, deadline),
        (protocol, None) => Ok(SendOutcome::Error(format!("a {protocol:?} probe needs a port"))),
    });
    match outcome {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(error)) => from_errno(&error),
        Err(error) => SendOutcome::Error(error),
    }
}

/// Echo request on a raw socket, which also receives the echo reply and any ICMP error
/// quoting the request (a raw ICMP socket gets a copy of every ICMP message that arrives).
fn icmp(probe: &Probe, deadline: Instant) -> io::Result<SendOutcome> {
    let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4))?;
    let message = packet::echo_request(probe.key as u16, 1, packet::token(probe.key).as_bytes());
    socket.send_to(&message, &SockAddr::from(SocketAddrV4::new(probe.to, 0)))?;
    let mut buffer = vec![0; 65536];
    while let Some(left) = remaining(deadline) {
        socket.set_read_timeout(Some(left))?;
        let len = match (&socket).read(&mut buffer) {
            Ok(len) => len,
            Err(error) if is_timeout(&error) => continue,
            Err(error) => return Err(error),
        };
        let Some(ip) = packet::parse_ipv4(&buffer[..len]).filter(|ip| ip.protocol == packet::ICMP) else { continue };
        match packet::parse_icmp(ip.payload) {
            Some(Icmp::EchoReply { payload, .. })
                if ip.source == probe.to && packet::probe_key(payload) == Some(probe.key) =>
            {
                return Ok(SendOutcome::Reply);
            }
            Some(Icmp::Error { kind, code, quoted }) if packet::quotes_echo(quoted, probe.key) => {
                return Ok(SendOutcome::Unreachable {
                    from: Some(ip.source),
                    what: packet::icmp_error_text(kind, code),
                });
            }
            _ => {}
        }
    }
    Ok(SendOutcome::Timeout)
}

/// Connect from the key's source port, send the token line, read the listener's line. The
/// connection is reset on close (linger 0) so no TIME_WAIT outlives the probe.
fn tcp(probe: &Probe, port: u16, deadline: Instant) -> io::Result<SendOutcome> {
    let socket = bound(Type::STREAM, Protocol::TCP, probe.key)?;
    socket.set_linger(Some(Duration::ZERO))?;
    let Some(left) = remaining(deadline) else { return Ok(SendOutcome::Timeout) };
    if let Err(error) = socket.connect_timeout(&SockAddr::from(SocketAddrV4::new(probe.to, port)), left) {
        return Ok(failure(&socket, &error));
    }
    let line = format!("{}\n", packet::token(probe.key));
    if let Some(left) = remaining(deadline) {
        socket.set_write_timeout(Some(left))?;
        if (&socket).write_all(line.as_bytes()).is_ok() && read_line(&socket, deadline).starts_with(b"ok") {
            return Ok(SendOutcome::Reply);
        }
    }
    Ok(SendOutcome::Timeout)
}

/// Send the token from the key's source port and wait for the echo server's answer, which
/// contains it. The socket is connected, so ICMP errors about it are reported to it.
fn udp(probe: &Probe, port: u16, deadline: Instant) -> io::Result<SendOutcome> {
    let socket = bound(Type::DGRAM, Protocol::UDP, probe.key)?;
    socket.connect(&SockAddr::from(SocketAddrV4::new(probe.to, port)))?;
    if let Err(error) = socket.send(packet::token(probe.key).as_bytes()) {
        return Ok(failure(&socket, &error));
    }
    let mut buffer = [0; 2048];
    while let Some(left) = remaining(deadline) {
        socket.set_read_timeout(Some(left))?;
        match (&socket).read(&mut buffer) {
            Ok(len) if packet::contains_token(&buffer[..len], probe.key) => return Ok(SendOutcome::Reply),
            Ok(_) => {}
            Err(error) if is_timeout(&error) => {}
            Err(error) => return Ok(failure(&socket, &error)),
        }
    }
    Ok(SendOutcome::Timeout)
}

/// A TCP or UDP socket on the key's source port with IP_RECVERR on. SO_REUSEADDR lets a
/// rerun reuse a port a previous run's socket still holds.
fn bound(kind: Type, protocol: Protocol, key: u32) -> io::Result<Socket> {
    let socket = Socket::new(Domain::IPV4, kind, Some(protocol))?;
    socket.set_reuse_address(true)?;
    let on: libc::c_int = 1;
    // SAFETY: the option value is a live c_int and its size is passed with it.
    let set = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_RECVERR,
            (&raw const on).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if set != 0 {
        return Err(io::Error::last_os_error());
    }
    socket.bind(&SockAddr::from(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, source_port(key))))?;
    Ok(socket)
}

/// A failed connect, send or receive: the ICMP error behind it if the error queue has one,
/// else what errno says.
fn failure(socket: &Socket, error: &io::Error) -> SendOutcome {
    match queued_icmp_error(socket) {
        Some((3, 3, _)) => SendOutcome::Refused,
        Some((kind, code, from)) => SendOutcome::Unreachable { from, what: packet::icmp_error_text(kind, code) },
        None => from_errno(error),
    }
}

/// Errors that are answers from the network (a refusal, no route) rather than a failure to
/// send; everything else is `Error`.
fn from_errno(error: &io::Error) -> SendOutcome {
    match error.raw_os_error() {
        Some(libc::ECONNREFUSED) => SendOutcome::Refused,
        Some(libc::EHOSTUNREACH) => SendOutcome::Unreachable { from: None, what: "host unreachable".into() },
        Some(libc::ENETUNREACH) => SendOutcome::Unreachable { from: None, what: "net unreachable".into() },
        _ if is_timeout(error) => SendOutcome::Timeout,
        _ => SendOutcome::Error(error.to_string()),
    }
}

/// The oldest ICMP error on the socket's error queue: (type, code, sender).
fn queued_icmp_error(socket: &Socket) -> Option<(u8, u8, Option<Ipv4Addr>)> {
    let mut data = [0u8; 256];
    let mut control = [0u64; 64];
    let mut iov = libc::iovec { iov_base: data.as_mut_ptr().cast(), iov_len: data.len() };
    // SAFETY: msghdr is plain data; all-zero is a valid empty header.
    let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
    message.msg_iov = &mut iov;
    message.msg_iovlen = 1;
    message.msg_control = control.as_mut_ptr().cast();
    message.msg_controllen = size_of_val(&control);
    // SAFETY: the header points at `iov`, `data` and `control`, all alive for the call.
    if unsafe { libc::recvmsg(socket.as_raw_fd(), &mut message, libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT) } < 0 {
        return None;
    }
    let error_len = size_of::<libc::sock_extended_err>();
    // SAFETY: CMSG_FIRSTHDR/NXTHDR walk the control buffer the kernel filled, within
    // msg_controllen; a header's data is read only when cmsg_len says it holds it.
    unsafe {
        let mut header = libc::CMSG_FIRSTHDR(&message);
        while !header.is_null() {
            let len = (*header).cmsg_len as usize;
            if (*header).cmsg_level == libc::IPPROTO_IP
                && (*header).cmsg_type == libc::IP_RECVERR
                && len >= libc::CMSG_LEN(error_len as u32) as usize
            {
                let data = libc::CMSG_DATA(header);
                let error: libc::sock_extended_err = std::ptr::read_unaligned(data.cast());
                if error.ee_origin != libc::SO_EE_ORIGIN_ICMP {
                    return None;
                }
                let with_sender = libc::CMSG_LEN((error_len + size_of::<libc::sockaddr_in>()) as u32) as usize;
                let from = (len >= with_sender)
                    .then(|| std::ptr::read_unaligned::<libc::sockaddr_in>(data.add(error_len).cast()))
                    .filter(|sender| sender.sin_family == libc::AF_INET as libc::sa_family_t)
                    .map(|sender| Ipv4Addr::from(u32::from_be(sender.sin_addr.s_addr)));
                return Some((error.ee_type, error.ee_code, from));
            }
            header = libc::CMSG_NXTHDR(&message, header);
        }
    }
    None
}

/// Read up to a newline (or 256 bytes) before `deadline`; whatever arrived if it ends early.
pub(super) fn read_line(socket: &Socket, deadline: Instant) -> Vec<u8> {
    let mut line = Vec::new();
    let mut chunk = [0u8; 256];
    while let Some(left) = remaining(deadline) {
        if socket.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match (&*socket).read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(len) => line.extend_from_slice(&chunk[..len]),
        }
        if line.contains(&b'\n') || line.len() >= 256 {
            break;
        }
    }
    line
}

/// Time left before `deadline`; `None` once it passed (a zero socket timeout would mean
/// "block forever").
fn remaining(deadline: Instant) -> Option<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    (left >= Duration::from_millis(1)).then_some(left)
}

/// A receive timeout: Linux reports SO_RCVTIMEO expiry as EAGAIN.
fn is_timeout(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted)
}
