// Every configuration key, its type, default and meaning: the one reference (`popgate config -d`).
import ms from 'ms';
import { listenAddress, type ListenAddress } from '../publish/listen-address.js';
import { parseRate, type Rate } from '../grants/rate-guard.js';
import { canonicalIp, parseNetwork, type Network } from '../net/ip.js';

export interface MapSpec {
  type: string;
  path: string;
}

export interface Config {
  log: string[];
  parsers: string[];
  db: string;
  map: MapSpec | null;
  map_value: string;
  policy: ListenAddress | null;
  policy_action: string;
  socketmap: ListenAddress | null;
  socketmap_name: string;
  allow_non_loopback: boolean;
  grace: number;
  max_hold: number;
  exclude: Network[];
  use_mynetworks: boolean;
  postconf_command: string;
  postmap_command: string;
  log_level: string;
  exclude_files: string[];
  brake_rate: Rate | null;
  brake_burst: Rate | null;
  dnsbl_zones: string[];
  dnsbl_servers: string[];
  dnsbl_timeout: number;
  dnsbl_fail: 'open' | 'closed';
  dnsbl_cache: number;
}

/** A value parser returns the value or throws a string that says what is wrong and how to fix it. */
type ValueParser<T> = (raw: string) => T;

export interface KeyDoc<K extends keyof Config = keyof Config> {
  key: K;
  default: string;
  meaning: string;
  parse: ValueParser<Config[K]>;
}

export function list(raw: string): string[] {
  return raw.split(/[\s,]+/).filter(Boolean);
}

export function duration(raw: string): number {
  const v = /^\d+$/.test(raw.trim()) ? Number(raw) * 1000 : ms(raw.trim() as ms.StringValue);
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw `"${raw}" is not a duration; write it like 30m, 90s, 2h or 1d`;
  }
  return v;
}

/** Map types popgate can build with postmap and swap by rename. */
export const MAP_TYPES = ['hash', 'btree', 'lmdb', 'cdb'] as const;

export function mapSpec(raw: string): MapSpec | null {
  if (raw.trim() === 'none') return null;
  const m = /^([a-z0-9]+):(\/\S+)$/.exec(raw.trim());
  if (!m) throw `"${raw}" is not TYPE:/absolute/path; write it like hash:/etc/postfix/popgate (or none)`;
  if (!(MAP_TYPES as readonly string[]).includes(m[1]!)) throw `popgate cannot build ${m[1]} maps; use one of ${MAP_TYPES.join(', ')}`;
  return { type: m[1]!, path: m[2]! };
}

function networks(raw: string): Network[] {
  return list(raw).map((t) => {
    const n = parseNetwork(t);
    if (!n) throw `"${t}" is not an address or network; write it like 192.0.2.0/24 or 2001:db8::/32`;
    return n;
  });
}

function yesNo(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['yes', 'true', 'on', '1'].includes(v)) return true;
  if (['no', 'false', 'off', '0'].includes(v)) return false;
  throw `"${raw}" is not yes or no`;
}

function word(pattern: RegExp, what: string): ValueParser<string> {
  return (raw) => {
    const v = raw.trim();
    if (!pattern.test(v)) throw `"${raw}" is not ${what}`;
    return v;
  };
}

function path(raw: string): string {
  const v = raw.trim();
  if (!v.startsWith('/') && v !== ':memory:') throw `"${raw}" is not an absolute path`;
  return v;
}

function paths(raw: string): string[] {
  const v = list(raw);
  for (const p of v) if (p !== '-' && !p.startsWith('/')) throw `"${p}" is not an absolute path (or - for standard input)`;
  return v;
}

function absolutePaths(raw: string): string[] {
  const v = list(raw);
  for (const p of v) if (!p.startsWith('/')) throw `"${p}" is not an absolute path`;
  return v;
}

function rate(raw: string): Rate | null {
  return parseRate(raw, duration);
}

function zones(raw: string): string[] {
  const v = list(raw).map((z) => z.toLowerCase().replace(/\.$/, ''));
  for (const z of v) if (!/^(?=.{1,200}$)([a-z0-9_]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/.test(z)) throw `"${z}" is not a DNS zone such as zen.spamhaus.org`;
  return v;
}

function servers(raw: string): string[] {
  return list(raw).map((t) => {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)|([0-9a-fA-F:]+))(?::(\d{1,5}))?$/.exec(t);
    const ip = m ? canonicalIp(m[1] ?? m[2] ?? m[3]!) : null;
    if (!m || !ip || (m[3] && m[4])) throw `"${t}" is not a resolver address; write it like 192.0.2.53, 192.0.2.53:5353 or [2001:db8::53]:53`;
    return t;
  });
}

export const SCHEMA: readonly KeyDoc[] = [
  { key: 'log', default: '/var/log/mail.log', meaning: 'Log files to follow (comma or space separated); - is standard input.', parse: paths },
  { key: 'parsers', default: '', meaning: 'Parsers to use (e.g. dovecot); empty means all of them.', parse: list },
  { key: 'db', default: '/var/lib/popgate/popgate.sqlite', meaning: 'SQLite database of grants, sessions, log positions and the audit trail.', parse: path },
  { key: 'map', default: 'hash:/etc/postfix/popgate', meaning: 'Postfix access map to publish, TYPE:PATH (hash, lmdb, cdb, btree); none disables it.', parse: mapSpec },
  { key: 'map_value', default: 'OK', meaning: 'Right-hand side written for each granted address.', parse: word(/^[A-Za-z0-9_.:-]{1,64}$/, 'a single access action such as OK') },
  { key: 'policy', default: 'none', meaning: "Policy service for Postfix's check_policy_service: unix:/PATH (e.g. unix:/var/spool/postfix/private/popgate-policy) or inet:127.0.0.1:PORT; none disables it.", parse: listenAddress },
  { key: 'policy_action', default: 'OK', meaning: 'Action the policy service returns for a granted client (others get DUNNO).', parse: word(/^[A-Za-z0-9_.:-]{1,64}$/, 'a single access action such as OK') },
  { key: 'socketmap', default: 'none', meaning: "Socketmap server for check_client_access socketmap:…:NAME: unix:/PATH or inet:127.0.0.1:PORT; none disables it. Granted addresses get map_value.", parse: listenAddress },
  { key: 'socketmap_name', default: 'popgate', meaning: 'Map name the socketmap server answers (the part after the last colon of the Postfix table).', parse: word(/^[A-Za-z0-9_.-]{1,64}$/, 'a map name such as popgate') },
  { key: 'allow_non_loopback', default: 'no', meaning: 'Let policy/socketmap listen on an inet address that is not loopback (they have no authentication; firewall it).', parse: yesNo },
  { key: 'grace', default: '30m', meaning: 'How long a login grants relay, counted from the login (or from the logout of an open session).', parse: duration },
  { key: 'max_hold', default: '12h', meaning: 'Longest time an open POP/IMAP session holds its grant before the grace starts anyway.', parse: duration },
  { key: 'exclude', default: '127.0.0.0/8, ::1/128', meaning: 'Networks never granted (NAT gateways, webmail front ends, loopback).', parse: networks },
  { key: 'use_mynetworks', default: 'yes', meaning: "Never grant addresses in Postfix's mynetworks (read with postconf).", parse: yesNo },
  { key: 'postconf_command', default: 'postconf', meaning: 'The postconf program.', parse: word(/^\S+$/, 'a program name or path') },
  { key: 'postmap_command', default: 'postmap', meaning: 'The postmap program that builds the map.', parse: word(/^\S+$/, 'a program name or path') },
  { key: 'log_level', default: 'info', meaning: 'Logging level: error, warn, info or debug.', parse: word(/^(error|warn|info|debug)$/, 'one of error, warn, info, debug') },
  { key: 'exclude_files', default: '', meaning: 'Files of networks never granted, like exclude: one address or CIDR per line, # comments; read again when they change.', parse: absolutePaths },
  { key: 'brake_rate', default: '300/1m', meaning: 'Automatic emergency brake: more new grants than this over all logs (N/DURATION) revokes every grant and stops granting until popgate release; none disables.', parse: rate },
  { key: 'brake_burst', default: '100/5s', meaning: 'Automatic emergency brake for one log and parser on its own (a forged or replayed log); N/DURATION, none disables.', parse: rate },
  { key: 'dnsbl_zones', default: '', meaning: 'DNS blocklists checked before a grant (e.g. zen.spamhaus.org); a listed client gets no grant. Empty: no check.', parse: zones },
  { key: 'dnsbl_servers', default: '', meaning: 'Resolvers for the DNSBL lookups (ADDR or ADDR:PORT, [IPv6]:PORT); empty: those of /etc/resolv.conf.', parse: servers },
  { key: 'dnsbl_timeout', default: '2s', meaning: 'Longest wait for the DNSBL answers of one login; no answer counts as a failed lookup.', parse: duration },
  { key: 'dnsbl_fail', default: 'closed', meaning: 'A failed DNSBL lookup (timeout, resolver error): closed refuses the grant, open grants anyway.', parse: word(/^(open|closed)$/, 'open or closed') as ValueParser<'open' | 'closed'> },
  { key: 'dnsbl_cache', default: '10m', meaning: 'How long a DNSBL answer is reused for the same address (failures are not cached).', parse: duration },
];
