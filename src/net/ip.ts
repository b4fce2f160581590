// The one place that decides what an IP address is: canonical text form and network membership.
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Canonical text of an address as Postfix looks it up: IPv4 dotted quad, IPv6 lower-case
 * RFC 5952 compressed, `::ffff:a.b.c.d` as `a.b.c.d`. Returns null for anything else
 * (zone ids, brackets, leading zeros, short forms, spaces).
 */
export function canonicalIp(text: string): string | null {
  const family = isIP(text);
  if (family === 4) {
    return ipaddr.IPv4.isValidFourPartDecimal(text) ? text : null;
  }
  if (family !== 6 || text.includes('%')) return null;
  let addr: ipaddr.IPv6;
  try {
    addr = ipaddr.IPv6.parse(text);
  } catch {
    return null;
  }
  if (addr.isIPv4MappedAddress()) return addr.toIPv4Address().toString();
  return addr.toRFC5952String();
}

export interface Network {
  /** Text as written by the admin (for messages). */
  readonly text: string;
  contains(ip: string): boolean;
}

/**
 * Parses `a.b.c.d`, `a.b.c.d/n`, `v6`, `[v6]`, `[v6]/n` (Postfix mynetworks syntax too).
 * IPv4-mapped IPv6 networks (`::ffff:127.0.0.0/104`) are turned into their IPv4 network,
 * because canonical addresses never carry the mapped form.
 */
// One address is checked against many networks in a row (GrantPolicy.refuse): parse it once.
let lastText: string | null = null;
let lastAddr: ipaddr.IPv4 | ipaddr.IPv6 | null = null;

function parsed(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (ip !== lastText) {
    try {
      lastAddr = ipaddr.parse(ip);
    } catch {
      lastAddr = null;
    }
    lastText = ip;
  }
  return lastAddr;
}

export function parseNetwork(text: string): Network | null {
  const m = /^\[?([0-9A-Fa-f:.]+)\]?(?:\/(\d{1,3}))?$/.exec(text.trim());
  if (!m) return null;
  const base = canonicalIp(m[1]!);
  if (!base) return null;
  const mappedV4 = isIP(base) === 4 && isIP(m[1]!) === 6;
  let bits = m[2] === undefined ? (isIP(base) === 4 && !mappedV4 ? 32 : 128) : Number(m[2]);
  if (mappedV4) {
    if (bits < 96 || bits > 128) return null;
    bits -= 96;
  }
  const max = isIP(base) === 4 ? 32 : 128;
  if (!Number.isInteger(bits) || bits > max) return null;
  const range: [ipaddr.IPv4 | ipaddr.IPv6, number] = [ipaddr.parse(base), bits];
  const kind = range[0].kind();
  return {
    text,
    contains(ip: string): boolean {
      const addr = parsed(ip);
      return addr !== null && addr.kind() === kind && addr.match(range as [ipaddr.IPv4, number] & [ipaddr.IPv6, number]);
    },
  };
}

/** Addresses that are never a client: unspecified, broadcast, multicast. */
export function isNeverClient(ip: string): string | null {
  const addr = parsed(ip);
  if (!addr) return 'not an address';
  const range = addr.range();
  if (range === 'unspecified') return 'unspecified address';
  if (range === 'broadcast') return 'broadcast address';
  if (range === 'multicast') return 'multicast address';
  return null;
}
