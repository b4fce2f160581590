// Who may never get a grant: excluded networks, Postfix's mynetworks, and non-client addresses.
import { isNeverClient, type Network } from '../net/ip.js';

export class GrantPolicy {
  constructor(
    private readonly exclude: readonly Network[],
    private readonly mynetworks: readonly Network[],
  ) {}

  /** Why `ip` (canonical) must not be granted, or null when it may be. */
  refuse(ip: string): string | null {
    const never = isNeverClient(ip);
    if (never) return never;
    for (const n of this.exclude) if (n.contains(ip)) return `in excluded network ${n.text}`;
    for (const n of this.mynetworks) if (n.contains(ip)) return `in Postfix mynetworks (${n.text}), which relays already`;
    return null;
  }
}
