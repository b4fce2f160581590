// Arguments several verbs take: an IP address, and how long a grant by hand lasts.
import { duration } from '../config/schema.js';
import { UsageError } from '../core/errors.js';
import { canonicalIp } from '../net/ip.js';

/** The longest grant by hand: doctor calls a grace beyond this a mistake too. */
export const MAX_MANUAL_MS = 7 * 24 * 3600_000;

export function ipArg(text: string): string {
  const ip = canonicalIp(text);
  if (!ip) throw new UsageError(`"${text}"`, 'not an IP address', 'give a full IPv4 or IPv6 address, e.g. 192.0.2.10');
  return ip;
}

/** `--for` (default: the grace), refused beyond MAX_MANUAL_MS. */
export function grantSpan(forText: string | undefined, graceMs: number): number {
  let span = graceMs;
  if (forText !== undefined) {
    try {
      span = duration(forText);
    } catch (why) {
      throw new UsageError('--for', String(why));
    }
  }
  if (span > MAX_MANUAL_MS) {
    throw new UsageError(
      '--for',
      `${forText ?? `${graceMs / 1000}s`} is longer than ${MAX_MANUAL_MS / 86_400_000} days`,
      'a grant by hand is for a user in need; put a permanent client in mynetworks',
    );
  }
  return span;
}
