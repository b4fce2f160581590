// Pattern fragments every parser shares, so no parser writes its own IP or key syntax.
// Fragments are loose on purpose: canonicalIp() decides whether a captured text is an address.

/** Characters of an IPv4 or IPv6 address (also `::ffff:a.b.c.d`); at most 45 of them. */
export const IP = '[0-9A-Fa-f:.]{2,45}';
/** A Dovecot / Cyrus style session id. */
export const SESSION_ID = '[A-Za-z0-9+/=_-]{1,64}';
/** A SASL mechanism name. */
export const MECH = '[A-Za-z0-9_-]{1,32}';

/** Builds an anchored regex from fragments; `^` and `$` are added here. */
export function anchored(...parts: string[]): RegExp {
  return new RegExp(`^${parts.join('')}$`);
}
