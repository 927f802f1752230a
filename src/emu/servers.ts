import { type IpAddress, ipToString } from '../base/address.js';
import type { Host } from './host.js';
import type { TcpConnection, TcpListener } from './tcp.js';

/** Small TCP servers for scenarios: echo, sink and banner. */

/** Sends back whatever arrives; closes when the client does. */
export function echoServer(host: Host, port: number): TcpListener {
  return host.tcpListen(port, (conn) => {
    conn.onData = (d) => {
      conn.send(d);
    };
    conn.onEnd = () => conn.close();
  });
}

export interface SinkConnection {
  readonly conn: TcpConnection;
  readonly remote: string;
  readonly remotePort: number;
  bytes: number;
}

export interface SinkServer {
  readonly listener: TcpListener;
  /** In the order accepted; `conn.received()` has the bytes. */
  readonly connections: SinkConnection[];
  readonly totalBytes: () => number;
}

/** Takes whatever arrives and records it per connection; closes when the client does. */
export function sinkServer(host: Host, port: number): SinkServer {
  const connections: SinkConnection[] = [];
  const listener = host.tcpListen(port, (conn) => {
    const entry: SinkConnection = {
      conn,
      remote: addressText(conn.remoteAddress),
      remotePort: conn.remotePort,
      bytes: 0,
    };
    connections.push(entry);
    conn.onData = (d) => {
      entry.bytes += d.length;
    };
    conn.onEnd = () => conn.close();
  });
  return { listener, connections, totalBytes: () => connections.reduce((n, c) => n + c.bytes, 0) };
}

/** Sends `banner` to every client on connect, then closes (SMTP, FTP and SSH greet first). */
export function bannerServer(host: Host, port: number, banner: Uint8Array): TcpListener {
  return host.tcpListen(port, (conn) => {
    conn.send(banner);
    conn.close();
  });
}

function addressText(a: IpAddress): string {
  return ipToString(a);
}
