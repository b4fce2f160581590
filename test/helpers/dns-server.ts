// A tiny DNS server on 127.0.0.1 for DNSBL tests (node:dgram): answers A queries from a table,
// NXDOMAIN for the rest, and can stay silent for chosen names (a timeout) or answer SERVFAIL.
import { createSocket, type Socket } from 'node:dgram';

export type DnsAnswer = string[] | 'nxdomain' | 'servfail' | 'drop';

export interface TestDnsServer {
  port: number;
  /** `127.0.0.1:PORT`, for dnsbl_servers / Resolver.setServers. */
  address: string;
  /** Every name asked, lower-case, in order. */
  queries: string[];
  close(): Promise<void>;
}

function readName(msg: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = offset;
  while (i < msg.length) {
    const len = msg[i]!;
    if (len === 0) return { name: labels.join('.'), end: i + 1 };
    if (len >= 0xc0) throw new Error('compression in a question');
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('latin1'));
    i += 1 + len;
  }
  throw new Error('truncated name');
}

function reply(query: Buffer, qEnd: number, rcode: number, addrs: string[]): Buffer {
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  header.writeUInt16BE(0x8180 | (query.readUInt16BE(2) & 0x0100) | rcode, 2); // QR, RD copied, RA
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addrs.length, 6);
  const question = query.subarray(12, qEnd);
  const answers = addrs.map((a) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question
    rr.writeUInt16BE(1, 2); // A
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(60, 6); // TTL
    rr.writeUInt16BE(4, 10);
    a.split('.').forEach((o, k) => rr.writeUInt8(Number(o), 12 + k));
    return rr;
  });
  return Buffer.concat([header, question, ...answers]);
}

/** `answer(name)` decides each reply; names are lower-case without the final dot. */
export async function startDnsServer(answer: (name: string) => DnsAnswer): Promise<TestDnsServer> {
  const sock: Socket = createSocket('udp4');
  const queries: string[] = [];
  sock.on('message', (msg, rinfo) => {
    try {
      const { name, end } = readName(msg, 12);
      const qtype = msg.readUInt16BE(end);
      const lower = name.toLowerCase();
      queries.push(lower);
      const a = answer(lower);
      if (a === 'drop') return;
      const out = a === 'nxdomain' ? reply(msg, end + 4, 3, []) : a === 'servfail' ? reply(msg, end + 4, 2, []) : reply(msg, end + 4, 0, qtype === 1 ? a : []);
      sock.send(out, rinfo.port, rinfo.address);
    } catch {
      // Not a query this server understands: no answer, as a real server might.
    }
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const port = sock.address().port;
  return { port, address: `127.0.0.1:${port}`, queries, close: () => new Promise((resolve) => sock.close(() => resolve())) };
}
