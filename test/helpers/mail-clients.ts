// Minimal POP3, IMAP and SMTP clients that bind a chosen loopback source address.
import { connect, type Socket } from 'node:net';

export interface Conversation {
  /** Sends a command (CRLF added) and resolves with the reply lines. */
  send(cmd: string): Promise<string[]>;
  close(): void;
  socket: Socket;
}

type ReplyDone = (lines: string[]) => boolean;

/** Opens a connection and reads the greeting; `done` tells when a reply is complete. */
async function open(host: string, port: number, localAddress: string, done: ReplyDone, timeoutMs = 5000): Promise<{ conv: Conversation; greeting: string[] }> {
  const socket = connect({ host, port, localAddress, family: host.includes(':') ? 6 : 4 });
  socket.setTimeout(timeoutMs);
  let buf = '';
  let waiter: { resolve: (l: string[]) => void; reject: (e: Error) => void } | null = null;
  let lines: string[] = [];
  const fail = (err: Error) => {
    waiter?.reject(err);
    waiter = null;
  };
  socket.on('data', (d) => {
    buf += d.toString('latin1');
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i).replace(/\r$/, ''));
      buf = buf.slice(i + 1);
      if (waiter && done(lines)) {
        const w = waiter;
        const got = lines;
        waiter = null;
        lines = [];
        w.resolve(got);
      }
    }
  });
  socket.on('timeout', () => {
    fail(new Error(`${host}:${port}: no answer within ${timeoutMs} ms`));
    socket.destroy();
  });
  socket.on('error', fail);
  socket.on('close', () => fail(new Error(`${host}:${port}: connection closed`)));
  const next = () =>
    new Promise<string[]>((resolve, reject) => {
      if (lines.length && done(lines)) {
        const got = lines;
        lines = [];
        resolve(got);
      } else waiter = { resolve, reject };
    });
  const greeting = await next();
  const conv: Conversation = {
    socket,
    send: (cmd) => {
      socket.write(cmd + '\r\n');
      return next();
    },
    close: () => socket.destroy(),
  };
  return { conv, greeting };
}

const popDone: ReplyDone = (l) => l.length > 0;
const smtpDone: ReplyDone = (l) => /^\d{3} /.test(l[l.length - 1] ?? '');

/** POP3 USER/PASS from `source`; resolves with true when the server accepted the password. */
export async function pop3Login(source: string, user: string, pass: string, port = 10110, host = '127.0.0.1'): Promise<boolean> {
  const { conv } = await open(host, port, source, popDone);
  try {
    await conv.send(`USER ${user}`);
    const ok = (await conv.send(`PASS ${pass}`))[0]!.startsWith('+OK');
    await conv.send('QUIT');
    return ok;
  } finally {
    conv.close();
  }
}

/** IMAP LOGIN from `source`, left open: call logout() to end the session cleanly. */
export async function imapSession(source: string, user: string, pass: string, port = 10143, host = '127.0.0.1'): Promise<{ ok: boolean; logout: () => Promise<void> }> {
  let tag = 0;
  let expect = '';
  const { conv } = await open(host, port, source, (l) => l.some((x) => x.startsWith(expect + ' ')) || (expect === '' && l.length > 0));
  const cmd = async (c: string) => {
    expect = `a${++tag}`;
    const lines = await conv.send(`${expect} ${c}`);
    return lines[lines.length - 1]!;
  };
  const ok = (await cmd(`LOGIN ${user} ${pass}`)).startsWith(`a${tag} OK`);
  return {
    ok,
    logout: async () => {
      try {
        await cmd('LOGOUT');
      } finally {
        conv.close();
      }
    },
  };
}

/** One SMTP session to RCPT from `source`; resolves with the RCPT reply (e.g. `250 2.1.5 Ok`). `timeoutMs`: per reply. */
export async function smtpRcpt(source: string, port = 2525, rcpt = 'user@example.net', host = '127.0.0.1', timeoutMs = 5000): Promise<string> {
  const { conv, greeting } = await open(host, port, source, smtpDone, timeoutMs);
  try {
    if (!greeting[greeting.length - 1]!.startsWith('220')) return greeting.join(' ');
    await conv.send('EHLO probe.example');
    const mail = await conv.send('MAIL FROM:<someone@example.org>');
    if (!mail[mail.length - 1]!.startsWith('250')) return mail.join(' ');
    const reply = (await conv.send(`RCPT TO:<${rcpt}>`)).join(' ');
    await conv.send('QUIT').catch(() => []);
    return reply;
  } finally {
    conv.close();
  }
}

/** A fresh loopback address for one test, so tests never see each other's grants. */
export function loopbackAddress(): string {
  const r = () => 2 + Math.floor(Math.random() * 250);
  return `127.${r()}.${r()}.${r()}`;
}
