// Who may never get a grant: excluded networks, Postfix's mynetworks, and non-client addresses.
import { isNeverClient, type Network } from '../net/ip.js';

export class GrantPolicy {
  constructor(
    private readonly exclude: readonly Network[],
    private readonly mynetworks: readonly Network[],
    /** Networks from deny files (`exclude_files`); they may change while popgate runs. */
    readonly deny: { refuse(ip: string): string | null } | null = null,
  ) {}

  /** Why `ip` (canonical) must not be granted, or null when it may be. */
  refuse(ip: string): string | null {
    const never = isNeverClient(ip);
    if (never) return never;
    for (const n of this.exclude) if (n.contains(ip)) return `in excluded network ${n.text}`;
    const denied = this.deny?.refuse(ip);
    if (denied) return denied;
    for (const n of this.mynetworks) if (n.contains(ip)) return `in Postfix mynetworks (${n.text}), which relays already`;
    return null;
  }
}
