// Pattern fragments every parser shares, so no parser writes its own IP or key syntax.
// Fragments are loose on purpose: canonicalIp() decides whether a captured text is an address.

/** Characters of an IPv4 or IPv6 address (also `::ffff:a.b.c.d`); at most 45 of them. */
export const IP = '[0-9A-Fa-f:.]{2,45}';
/** A Dovecot / Cyrus style session id. */
export const SESSION_ID = '[A-Za-z0-9+/=_-]{1,64}';
/** A SASL mechanism name. */
export const MECH = '[A-Za-z0-9_-]{1,32}';
/** A host name as a server writes it (reverse DNS or `unknown`); never trusted as an address. */
export const HOSTNAME = '[A-Za-z0-9_.:-]{0,255}';
/**
 * Client-written text (a user name), greedy so that the server's own fixed tail after it is the
 * one that matches, and bounded: a line that syslog truncated can then never end inside a long
 * name that imitates that tail (`user=AAAA…, ip=[203.0.113.9]` cut right there).
 */
export const USER_TEXT = '.{0,256}';
/** Client text without spaces (servers that log the name as one word). */
export const USER_WORD = '[^ ]{1,256}';

/** Builds an anchored regex from fragments; `^` and `$` are added here. */
export function anchored(...parts: string[]): RegExp {
  return new RegExp(`^${parts.join('')}$`);
}
