// What Postfix opens on popgate's behalf: the built map (smtpd opens it as root before chroot)
// and the live sockets (smtpd connects after chroot, as user postfix).
import { statSync, type Stats } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { Config } from '../config/schema.js';
import { formatListenAddress, isLoopback, type ListenAddress } from '../publish/listen-address.js';
import { mapTypeHint } from '../postfix/hints.js';
import { builtSuffix } from '../postfix/map-spec.js';
import { postfixAccount, type Account } from '../publish/postfix-user.js';
import { error, ok, warning, type Finding } from './finding.js';
import type { PostfixView } from './postfix-view.js';

function stat(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/** Whether `account` may do `bits` (4 read, 2 write, 1 search) on a file with these stats. */
export function may(st: Stats, account: Account, bits: number): boolean {
  if (account.uid === 0) return true;
  if (st.uid === account.uid) return ((st.mode >> 6) & bits) === bits;
  if (st.gid === account.gid) return ((st.mode >> 3) & bits) === bits;
  return (st.mode & bits) === bits;
}

export function checkMap(config: Config, pf: PostfixView): Finding[] {
  const map = config.map;
  if (!map) return [];
  const where = `popgate config: map = ${map.type}:${map.path}`;
  if (!pf.mapTypes.has(map.type)) {
    return [error(where, `this Postfix does not support ${map.type} maps (postconf -m)`, mapTypeHint(map.type))];
  }
  let suffix: string;
  try {
    suffix = builtSuffix(map.type);
  } catch {
    return [error(where, `popgate cannot build ${map.type} maps`, 'use hash, btree, lmdb or cdb')];
  }
  const built = stat(map.path + suffix);
  if (!built) {
    const dir = stat(dirname(map.path));
    return [
      error(
        map.path + suffix,
        'missing: smtpd dies on a missing map and master throttles the service for 60 s',
        dir ? 'start popgate run (it builds the map), or: touch the file and run postmap' : `create the directory ${dirname(map.path)}`,
      ),
    ];
  }
  if ((built.mode & 0o004) === 0) {
    return [warning(map.path + suffix, `not readable by other users (mode ${(built.mode & 0o777).toString(8)}): postmap -q and proxy: lookups fail`, 'chmod 0644')];
  }
  return [ok(map.path + suffix, 'present and readable')];
}

function reachable(a: ListenAddress): Promise<boolean> {
  return new Promise((resolve) => {
    const s = a.kind === 'unix' ? connect(a.path) : connect({ host: a.host, port: a.port });
    s.setTimeout(2000, () => (s.destroy(), resolve(false)));
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export async function checkSocket(what: 'policy' | 'socketmap', a: ListenAddress | null, config: Config, pf: PostfixView): Promise<Finding[]> {
  if (!a) return [];
  const where = `popgate config: ${what} = ${formatListenAddress(a)}`;
  const out: Finding[] = [];
  if (a.kind === 'inet') {
    if (!isLoopback(a.host) && !config.allow_non_loopback) out.push(error(where, 'not a loopback address: popgate refuses to listen there', 'use 127.0.0.1 or a UNIX socket'));
    else if (!isLoopback(a.host))
      out.push(warning(where, 'listens on a non-loopback address (allow_non_loopback = yes): anyone who reaches the port can query grants', 'firewall the port, or use a UNIX socket'));
  } else {
    const chrooted = pf.services.some((s) => s.chroot);
    if (chrooted && !a.path.startsWith(`${pf.queueDirectory}/`)) {
      out.push(
        error(
          where,
          `outside Postfix's chroot (${pf.queueDirectory}): a chrooted smtpd cannot connect`,
          `use unix:${pf.queueDirectory}/popgate/${what} (a directory of popgate's, owner popgate, group postfix, mode 0750)`,
        ),
      );
    }
    if (!stat(dirname(a.path))?.isDirectory()) out.push(error(where, `the directory ${dirname(a.path)} does not exist: popgate cannot create its socket`, 'create it, or choose another path'));
    const st = stat(a.path);
    const account = postfixAccount();
    if (st && !st.isSocket()) out.push(error(a.path, 'exists and is not a socket', 'remove it or choose another path'));
    else if (st && account && !may(st, account, 2)) {
      out.push(
        error(
          a.path,
          `user ${account.name} cannot connect (owner ${st.uid}:${st.gid}, mode ${(st.mode & 0o777).toString(8)}): Postfix answers 451`,
          'run popgate as root (it gives the socket to postfix), or put popgate in the postfix group',
        ),
      );
    } else if (st && account) {
      for (let d = dirname(a.path); d !== '/'; d = dirname(d)) {
        const ds = stat(d);
        if (ds && !may(ds, account, 1)) {
          out.push(error(d, `user ${account.name} cannot enter this directory, so it cannot reach ${a.path}`, `chmod o+x ${d}, or use a directory of popgate's inside ${pf.queueDirectory}`));
          break;
        }
      }
    }
    if (!st) {
      out.push(warning(a.path, 'no socket there: until popgate run creates it, Postfix answers 451 4.3.5 to every relay attempt', 'start popgate run'));
      return out;
    }
  }
  if (!(await reachable(a))) out.push(warning(where, 'nothing answers there: Postfix answers 451 4.3.5 to every relay attempt', 'start popgate run'));
  else if (!out.some((f) => f.level === 'error')) out.push(ok(where, `answering${a.kind === 'unix' ? ', and connectable for postfix' : ''}`));
  return out;
}

/** The policy service and the socketmap cannot share one address. */
export function checkDistinct(config: Config): Finding[] {
  const { policy, socketmap } = config;
  if (!policy || !socketmap || formatListenAddress(policy) !== formatListenAddress(socketmap)) return [];
  return [
    error(
      'popgate config: socketmap',
      `same address as policy (${formatListenAddress(policy)}): the second server cannot listen`,
      'give each its own socket, e.g. popgate/policy and popgate/socketmap',
    ),
  ];
}
