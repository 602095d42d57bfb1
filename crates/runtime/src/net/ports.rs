//! The host side of a published port.

use std::net::{Ipv4Addr, TcpListener, UdpSocket};

use cratebox_network::ports::{PortSpec, Protocol, Published};

use crate::error::EngineError;

// ANCHOR: pick_host_port
/// The host side of a port to publish: the one asked for, unless another
/// container or a program of the host has it; or, when none was asked
/// for, a free one the kernel picks.
pub fn pick_host_port(port: &PortSpec, taken: &[Published]) -> Result<Published, EngineError> {
    let host_ip = port.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
    let clash = |p: &Published, number: u16| {
        p.protocol == port.protocol
            && p.host_port == number
            && (p.host_ip == host_ip || p.host_ip.is_unspecified() || host_ip.is_unspecified())
    };
    let in_use = |number: u16| {
        EngineError::Network(format!(
            "Bind for {host_ip}:{number} failed: port is already allocated"
        ))
    };
    // Binding tells whether a program of the host listens there, and,
    // with port 0, which port is free.
    let bind = |number: u16| -> std::io::Result<u16> {
        match port.protocol {
            Protocol::Tcp => TcpListener::bind((host_ip, number))?.local_addr(),
            Protocol::Udp => UdpSocket::bind((host_ip, number))?.local_addr(),
        }
        .map(|address| address.port())
    };
    let host_port = match port.host_port {
        Some(number) => {
            if taken.iter().any(|p| clash(p, number)) {
                return Err(in_use(number));
            }
            bind(number).map_err(|e| {
                EngineError::Network(format!("Bind for {host_ip}:{number} failed: {e}"))
            })?
        }
        None => {
            let mut tries = 0;
            loop {
                let number =
                    bind(0).map_err(|e| EngineError::Network(format!("no free port: {e}")))?;
                if !taken.iter().any(|p| clash(p, number)) || tries > 20 {
                    break number;
                }
                tries += 1;
            }
        }
    };
    Ok(Published {
        host_ip,
        host_port,
        container_port: port.container_port,
        protocol: port.protocol,
    })
}
// ANCHOR_END: pick_host_port

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_another_container_has_is_refused() {
        let spec = PortSpec {
            host_ip: None,
            host_port: Some(8080),
            container_port: 80,
            protocol: Protocol::Tcp,
        };
        let taken = [Published {
            host_ip: Ipv4Addr::LOCALHOST,
            host_port: 8080,
            container_port: 81,
            protocol: Protocol::Tcp,
        }];
        let error = pick_host_port(&spec, &taken).err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("Bind for 0.0.0.0:8080 failed: port is already allocated")
        );
    }
}
