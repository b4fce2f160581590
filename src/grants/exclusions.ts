// Who may never get a grant: excluded networks, deny files, Postfix's mynetworks, and
// addresses that are never a client (unspecified, broadcast, multicast).
import type { Logger } from 'winston';
import { DenyFiles } from './deny-files.js';
import { isNeverClient, type Network } from '../net/ip.js';
import { readMynetworks } from '../postfix/tools.js';

export class Exclusions {
  constructor(
    private readonly exclude: readonly Network[],
    private readonly mynetworks: readonly Network[],
    /** Networks from deny files (`exclude_files`); they may change while popgate runs. */
    readonly deny: DenyFiles | null = null,
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

/** The settings exclusions come from (a Config has them). */
export interface ExclusionSettings {
  exclude: Network[];
  exclude_files: string[];
  use_mynetworks: boolean;
  postconf_command: string;
}

/** The exclusions the settings ask for; reads Postfix's mynetworks with postconf. */
export async function loadExclusions(config: ExclusionSettings, logger: Logger): Promise<Exclusions> {
  let mynetworks: Network[] = [];
  if (config.use_mynetworks) {
    const r = await readMynetworks(config.postconf_command);
    if (!r) logger.warn(`${config.postconf_command} not found: Postfix's mynetworks not read; hint: install Postfix or set use_mynetworks = no`);
    else {
      mynetworks = r.networks;
      if (r.skipped.length) logger.warn(`mynetworks: cannot read ${r.skipped.join(', ')}; those entries are not excluded from grants`);
    }
  }
  const deny = config.exclude_files.length ? new DenyFiles(config.exclude_files) : null;
  return new Exclusions(config.exclude, mynetworks, deny);
}
