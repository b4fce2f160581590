// Every setting: its default, meaning, value parser and whether a reload (SIGHUP) applies it.
// The one reference: `popgate config -d`, popgate.cf(5), the loader and the reload all read it,
// and `Config` is derived from it, so a setting removed here no longer builds where it is used.
import { listenAddress, type ListenAddress } from '../publish/listen-address.js';
import { absolutePaths, duration, list, logPaths, mapSpec, networks, path, rate, storeUrl, servers, word, yesNo, zones, type ValueParser } from './values.js';

export { duration, list } from './values.js';

/** `live`: a reload applies it at once; `restart`: a reload names it and keeps the running value. */
export type Reload = 'live' | 'restart';

interface Spec<T> {
  default: string;
  meaning: string;
  parse: ValueParser<T>;
  reload: Reload;
}

/** Prometheus scrapes over TCP: an inet address only. */
function metricsAddress(raw: string): Extract<ListenAddress, { kind: 'inet' }> | null {
  const a = listenAddress(raw);
  if (a?.kind === 'unix') throw `"${raw}": metrics are scraped over HTTP; write inet:127.0.0.1:PORT, e.g. inet:127.0.0.1:9187`;
  return a;
}

const ACTION = word(/^[A-Za-z0-9_.:-]{1,64}$/, 'a single access action such as OK');

const KEYS = {
  log: { default: '/var/log/mail.log', meaning: 'Log files to follow (comma or space separated); - is standard input.', parse: logPaths, reload: 'live' },
  parsers: { default: '', meaning: 'Parsers to use (e.g. dovecot); empty means all of them.', parse: list, reload: 'live' },
  db: { default: '/var/lib/popgate/popgate.sqlite', meaning: 'SQLite database of grants, sessions, log positions and the audit trail.', parse: path, reload: 'restart' },
  store: {
    default: 'sqlite',
    meaning:
      'Where grants are shared: sqlite (this host alone), or postgresql://USER@HOST:PORT/DB for several hosts (the SQLite db keeps the log positions of this host and an outbox). Password from ~/.pgpass, PGPASSFILE or PGPASSWORD, never here; TLS with ?sslmode=verify-full&sslrootcert=FILE.',
    parse: storeUrl,
    reload: 'restart',
  },
  map: { default: 'hash:/var/lib/popgate/map/popgate', meaning: 'Postfix access map to publish, TYPE:PATH (hash, lmdb, cdb, btree); none disables it.', parse: mapSpec, reload: 'restart' },
  map_value: { default: 'OK', meaning: 'Right-hand side written for each granted address.', parse: ACTION, reload: 'restart' },
  policy: {
    default: 'none',
    meaning: "Policy service for Postfix's check_policy_service: unix:/PATH (e.g. unix:/var/spool/postfix/popgate/policy, inside Postfix's chroot) or inet:127.0.0.1:PORT; none disables it.",
    parse: listenAddress,
    reload: 'restart',
  },
  policy_action: { default: 'OK', meaning: 'Action the policy service returns for a granted client (others get DUNNO).', parse: ACTION, reload: 'restart' },
  socketmap: {
    default: 'none',
    meaning: 'Socketmap server for check_client_access socketmap:…:NAME: unix:/PATH or inet:127.0.0.1:PORT; none disables it. Granted addresses get map_value.',
    parse: listenAddress,
    reload: 'restart',
  },
  socketmap_name: {
    default: 'popgate',
    meaning: 'Map name the socketmap server answers (the part after the last colon of the Postfix table).',
    parse: word(/^[A-Za-z0-9_.-]{1,64}$/, 'a map name such as popgate'),
    reload: 'restart',
  },
  allow_non_loopback: { default: 'no', meaning: 'Let policy/socketmap listen on an inet address that is not loopback (they have no authentication; firewall it).', parse: yesNo, reload: 'restart' },
  grace: {
    default: '30m',
    meaning: 'How long a login grants relay, counted from the login (or from the logout of an open session). A shorter value on reload shortens existing grants too.',
    parse: duration,
    reload: 'live',
  },
  max_hold: { default: '12h', meaning: 'Longest time an open POP/IMAP session holds its grant before the grace starts anyway.', parse: duration, reload: 'live' },
  exclude: { default: '127.0.0.0/8, ::1/128', meaning: 'Networks never granted (NAT gateways, webmail front ends, loopback).', parse: networks, reload: 'live' },
  use_mynetworks: { default: 'yes', meaning: "Never grant addresses in Postfix's mynetworks (read with postconf).", parse: yesNo, reload: 'live' },
  postconf_command: { default: 'postconf', meaning: 'The postconf program.', parse: word(/^\S+$/, 'a program name or path'), reload: 'live' },
  postmap_command: { default: 'postmap', meaning: 'The postmap program that builds the map.', parse: word(/^\S+$/, 'a program name or path'), reload: 'restart' },
  log_level: { default: 'info', meaning: 'Logging level: error, warn, info or debug.', parse: word(/^(error|warn|info|debug)$/, 'one of error, warn, info, debug'), reload: 'live' },
  exclude_files: {
    default: '',
    meaning: 'Files of networks never granted, like exclude: one address or CIDR per line, # comments; read again when they change.',
    parse: absolutePaths,
    reload: 'live',
  },
  brake_rate: {
    default: '300/1m',
    meaning: 'Automatic emergency brake: more new grants than this over all logs (N/DURATION) revokes every grant and stops granting until popgate release; none disables.',
    parse: rate,
    reload: 'live',
  },
  brake_burst: { default: '100/5s', meaning: 'Automatic emergency brake for one log and parser on its own (a forged or replayed log); N/DURATION, none disables.', parse: rate, reload: 'live' },
  dnsbl_zones: { default: '', meaning: 'DNS blocklists checked before a grant (e.g. zen.spamhaus.org); a listed client gets no grant. Empty: no check.', parse: zones, reload: 'live' },
  dnsbl_servers: { default: '', meaning: 'Resolvers for the DNSBL lookups (ADDR or ADDR:PORT, [IPv6]:PORT); empty: those of /etc/resolv.conf.', parse: servers, reload: 'live' },
  dnsbl_timeout: { default: '2s', meaning: 'Longest wait for the DNSBL answers of one login; no answer counts as a failed lookup.', parse: duration, reload: 'live' },
  dnsbl_fail: {
    default: 'closed',
    meaning: 'A failed DNSBL lookup (timeout, resolver error): closed refuses the grant, open grants anyway.',
    parse: word<'open' | 'closed'>(/^(open|closed)$/, 'open or closed'),
    reload: 'live',
  },
  dnsbl_cache: { default: '10m', meaning: 'How long a DNSBL answer is reused for the same address (failures are not cached).', parse: duration, reload: 'live' },
  audit_keep: {
    default: '90d',
    meaning: 'How long the audit trail (popgate history) keeps its entries; the daemon deletes older ones (a writer to a shared store: in its shared history too). forever keeps them all.',
    parse: (raw: string) => (raw.trim() === 'forever' ? 0 : duration(raw)),
    reload: 'live',
  },
  metrics: {
    default: 'none',
    meaning: 'Prometheus metrics over HTTP at inet:127.0.0.1:PORT (path /metrics); loopback unless allow_non_loopback; none disables it.',
    parse: metricsAddress,
    reload: 'restart',
  },
} satisfies Record<string, Spec<unknown>>;

type Keys = typeof KEYS;
export type ConfigKey = keyof Keys;
export type Config = { [K in ConfigKey]: ReturnType<Keys[K]['parse']> };
/** The settings a reload applies while running. */
export type LiveKey = { [K in ConfigKey]: Keys[K]['reload'] extends 'live' ? K : never }[ConfigKey];

export interface KeyDoc<K extends ConfigKey = ConfigKey> extends Spec<Config[K]> {
  key: K;
}

/** The settings in the order they are documented. */
export const SCHEMA: readonly KeyDoc[] = (Object.keys(KEYS) as ConfigKey[]).map((key) => ({ key, ...KEYS[key] }) as KeyDoc);

/** Settings whose value differs between two configs (compared as their canonical JSON). */
export function changedKeys(a: Config, b: Config): KeyDoc[] {
  return SCHEMA.filter((k) => JSON.stringify(a[k.key]) !== JSON.stringify(b[k.key]));
}
