// What Postfix must name to reach popgate, derived from popgate's config: the map, the
// policy service, the socketmap; and how to recognise each in a restriction list.
import { relative } from 'node:path';
import type { Config } from '../config/schema.js';
import { formatListenAddress, type ListenAddress } from '../publish/listen-address.js';
import type { Restriction } from './restrictions.js';

export type TargetKind = 'map' | 'policy' | 'socketmap';

export interface Target {
  kind: TargetKind;
  /** The popgate setting it comes from, for messages. */
  setting: string;
  /** The restriction to add, in Postfix syntax, as it works for a chrooted smtpd. */
  restriction: Restriction;
  /** True when `r` names this target (also in forms that do not work: see `problem`). */
  matches(r: Restriction): boolean;
  /** Why a matching reference does not reach popgate from this service, or null. */
  problem(r: Restriction, chroot: boolean, queueDir: string): string | null;
}

/** How Postfix names a listen address: `unix:private/x` below the queue directory. */
export function postfixEndpoint(a: ListenAddress, queueDir: string): string {
  if (a.kind === 'inet') return formatListenAddress(a);
  const rel = relative(queueDir, a.path);
  return rel && !rel.startsWith('..') && !rel.startsWith('/') ? `unix:${rel}` : `unix:${a.path}`;
}

/** A Postfix endpoint (`unix:private/x`, `inet:127.0.0.1:1`, `127.0.0.1:1`) as a file path or host:port, seen from outside any chroot. */
function resolve(endpoint: string, queueDir: string): { unix: string | null; inet: string | null; absolute: boolean } {
  if (endpoint.startsWith('unix:')) {
    const p = endpoint.slice(5);
    return { unix: p.startsWith('/') ? p : `${queueDir}/${p}`, inet: null, absolute: p.startsWith('/') };
  }
  return { unix: null, inet: endpoint.replace(/^inet:/, ''), absolute: false };
}

function sameEndpoint(endpoint: string, a: ListenAddress, queueDir: string): boolean {
  const r = resolve(endpoint, queueDir);
  if (a.kind === 'unix') return r.unix === a.path || (r.absolute && `${queueDir}${r.unix}` === a.path);
  return r.inet === postfixEndpoint(a, queueDir).slice(5);
}

function endpointProblem(endpoint: string, a: ListenAddress, chroot: boolean, queueDir: string): string | null {
  const r = resolve(endpoint, queueDir);
  if (a.kind === 'unix' && chroot) {
    if (!a.path.startsWith(`${queueDir}/`)) return `the socket ${a.path} is outside Postfix's chroot (${queueDir}): the chrooted smtpd cannot reach it`;
    if (r.absolute) return `smtpd is chrooted: ${endpoint} is looked up as ${queueDir}${r.unix}; name it relative to the queue directory`;
  }
  return null;
}

export function targets(config: Config, queueDir: string): Target[] {
  const out: Target[] = [];
  const { map, policy, socketmap } = config;
  if (map) {
    const table = `${map.type}:${map.path}`;
    out.push({
      kind: 'map',
      setting: `map = ${table}`,
      restriction: { name: 'check_client_access', arg: table, options: [] },
      matches: (r) => r.name === 'check_client_access' && (r.arg === table || r.arg === `proxy:${table}`),
      problem: () => null,
    });
  }
  if (policy) {
    out.push({
      kind: 'policy',
      setting: `policy = ${formatListenAddress(policy)}`,
      restriction: { name: 'check_policy_service', arg: postfixEndpoint(policy, queueDir), options: [] },
      matches: (r) => r.name === 'check_policy_service' && r.arg !== null && sameEndpoint(r.arg, policy, queueDir),
      problem: (r, chroot) => endpointProblem(r.arg!, policy, chroot, queueDir),
    });
  }
  if (socketmap) {
    const name = config.socketmap_name;
    const table = (r: Restriction) => /^socketmap:(.+):([^:]+)$/.exec(r.arg ?? '');
    out.push({
      kind: 'socketmap',
      setting: `socketmap = ${formatListenAddress(socketmap)}`,
      restriction: { name: 'check_client_access', arg: `socketmap:${postfixEndpoint(socketmap, queueDir)}:${name}`, options: [] },
      matches: (r) => {
        const m = r.name === 'check_client_access' ? table(r) : null;
        return m !== null && sameEndpoint(m[1]!, socketmap, queueDir);
      },
      problem: (r, chroot) => {
        const m = table(r)!;
        if (m[2] !== name) return `the map name is ${m[2]}, popgate answers ${name} (socketmap_name): every lookup fails with 451`;
        return endpointProblem(m[1]!, socketmap, chroot, queueDir);
      },
    });
  }
  return out;
}

/** A reference that looks like popgate's but matches none of its targets (stale or mistyped). */
export function looksLikePopgate(r: Restriction): boolean {
  return (r.name === 'check_policy_service' || r.name === 'check_client_access') && /popgate/i.test(r.arg ?? '');
}
