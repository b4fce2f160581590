// The `postfix` system account (smtpd runs as it after chroot): who must be able to connect
// to a live socket. Read from /etc/passwd; null when Postfix's user does not exist here.
import { readFileSync } from 'node:fs';

export interface Account {
  name: string;
  uid: number;
  gid: number;
}

export function systemAccount(name: string, passwd = '/etc/passwd'): Account | null {
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4 && /^\d+$/.test(f[2]!) && /^\d+$/.test(f[3]!)) return { name, uid: Number(f[2]), gid: Number(f[3]) };
  }
  return null;
}

/** Postfix's `mail_owner` is `postfix` on Debian and upstream. */
export function postfixAccount(): Account | null {
  return systemAccount('postfix');
}
