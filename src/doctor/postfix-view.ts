// Postfix's settings as doctor needs them, read with postconf only (`-c DIR` for another
// config directory): main.cf values, every smtpd service of master.cf with its -o overrides
// and chroot flag, and the lookup table types this Postfix supports.
import { describe, UnavailableError } from '../core/errors.js';
import { toolMissing } from '../postfix/hints.js';
import { run } from '../postfix/tools.js';

export interface SmtpdService {
  /** `127.0.0.1:2526/inet`, `smtp/inet`, or `main.cf` when master.cf has no smtpd service. */
  name: string;
  chroot: boolean;
  /** Parameters overridden with -o in master.cf (expanded). */
  overrides: Map<string, string>;
}

export interface PostfixView {
  configDir: string | null;
  version: string;
  queueDirectory: string;
  mapTypes: Set<string>;
  services: SmtpdService[];
  /** A main.cf value (expanded), or the default. */
  main(name: string): string;
  /** The value a service sees: its override, else main.cf's. */
  value(service: SmtpdService, name: string): string;
  /** Where a value comes from, for messages. */
  source(service: SmtpdService, name: string): string;
}

export const RESTRICTION_LISTS = ['smtpd_client_restrictions', 'smtpd_helo_restrictions', 'smtpd_sender_restrictions', 'smtpd_relay_restrictions', 'smtpd_recipient_restrictions'] as const;
const WANTED = [
  ...RESTRICTION_LISTS,
  'queue_directory',
  'mail_version',
  'mynetworks',
  'smtpd_policy_service_default_action',
  'smtpd_policy_service_timeout',
  'smtpd_restriction_classes',
  'ipc_timeout',
];

export async function readPostfix(postconf: string, configDir: string | null): Promise<PostfixView> {
  const base = configDir ? ['-c', configDir] : [];
  const pc = async (args: string[]) => {
    try {
      return (await run(postconf, [...base, ...args], 15_000)).stdout;
    } catch (err) {
      const stderr = ((err as { stderr?: string }).stderr ?? '').trim();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw toolMissing(postconf, 'postconf_command', err);
      throw new UnavailableError(`postconf ${[...base, ...args].join(' ')}`, `failed (${stderr || describe(err)})`, 'check the Postfix configuration directory');
    }
  };
  const values = new Map<string, string>();
  for (const line of (await pc(['-x', ...WANTED])).split('\n')) {
    const m = /^(\S+) = ?(.*)$/.exec(line);
    if (m) values.set(m[1]!, m[2]!);
  }
  const mapTypes = new Set((await pc(['-m'])).split(/\s+/).filter(Boolean));
  const overrides = new Map<string, Map<string, string>>();
  for (const line of (await pc(['-xP'])).split('\n')) {
    const m = /^(\S+\/\S+)\/(\S+) = ?(.*)$/.exec(line);
    if (!m) continue;
    if (!overrides.has(m[1]!)) overrides.set(m[1]!, new Map());
    overrides.get(m[1]!)!.set(m[2]!, m[3]!);
  }
  const services: SmtpdService[] = [];
  for (const line of (await pc(['-M'])).split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[7] !== 'smtpd' || !['inet', 'pass'].includes(f[1]!)) continue;
    const name = `${f[0]}/${f[1]}`;
    // Since Postfix 3.0 an unset (-) chroot column means n; Debian writes y explicitly.
    services.push({ name, chroot: f[4] === 'y', overrides: overrides.get(name) ?? new Map() });
  }
  if (services.length === 0) services.push({ name: 'main.cf', chroot: false, overrides: new Map() });
  const main = (name: string) => values.get(name) ?? '';
  return {
    configDir,
    version: main('mail_version'),
    queueDirectory: main('queue_directory') || '/var/spool/postfix',
    mapTypes,
    services,
    main,
    value: (s, name) => s.overrides.get(name) ?? main(name),
    source: (s, name) => (s.overrides.has(name) ? `master.cf ${s.name}: -o ${name}` : services.length > 1 ? `main.cf: ${name} (as ${s.name} sees it)` : `main.cf: ${name}`),
  };
}
