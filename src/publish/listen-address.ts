// Where a live server listens, written Postfix style: `unix:/absolute/path` or
// `inet:HOST:PORT` (`inet:[::1]:PORT` for IPv6). Hosts are numeric: smtpd runs chrooted and
// may not resolve names, and a name could resolve to a public address.
import { isIP } from 'node:net';
import { canonicalIp, parseNetwork } from '../net/ip.js';

export type ListenAddress = { kind: 'unix'; path: string } | { kind: 'inet'; host: string; port: number };

/** Longest UNIX socket path Linux takes (sun_path is 108 bytes with the final NUL). */
const MAX_SOCKET_PATH = 107;
const LOOPBACK = [parseNetwork('127.0.0.0/8')!, parseNetwork('::1/128')!];

/** Parses `unix:PATH`, `inet:HOST:PORT` or `none`; throws a string saying how to write it. */
export function listenAddress(raw: string): ListenAddress | null {
  const v = raw.trim();
  if (v === 'none' || v === '') return null;
  if (v.startsWith('unix:')) {
    const path = v.slice(5);
    if (!path.startsWith('/')) throw `"${raw}": the socket path must be absolute, e.g. unix:/var/spool/postfix/popgate/policy`;
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH) throw `"${raw}": a UNIX socket path is at most ${MAX_SOCKET_PATH} bytes`;
    if (/\s/.test(path)) throw `"${raw}": the socket path contains white space`;
    return { kind: 'unix', path };
  }
  const m = /^inet:(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(v);
  if (!m) throw `"${raw}" is not unix:/PATH or inet:HOST:PORT; write it like unix:/var/spool/postfix/popgate/policy or inet:127.0.0.1:10040`;
  const hostText = m[1] ?? m[2]!;
  const host = canonicalIp(hostText);
  if (!host) throw `"${raw}": ${hostText} is not a numeric IP address; write inet:127.0.0.1:PORT (Postfix's chroot cannot resolve names)`;
  if (m[1] !== undefined && isIP(host) !== 6) throw `"${raw}": brackets are for IPv6 addresses only`;
  if (m[1] === undefined && isIP(host) === 6) throw `"${raw}": write IPv6 addresses in brackets, like inet:[::1]:10040`;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw `"${raw}": the port must be 1 to 65535`;
  return { kind: 'inet', host, port };
}

export function formatListenAddress(a: ListenAddress): string {
  if (a.kind === 'unix') return `unix:${a.path}`;
  return isIP(a.host) === 6 ? `inet:[${a.host}]:${a.port}` : `inet:${a.host}:${a.port}`;
}

export function isLoopback(host: string): boolean {
  const ip = canonicalIp(host);
  return ip !== null && LOOPBACK.some((n) => n.contains(ip));
}
