// The map's text goes from the store to postmap in pages, into a buffer reused between builds:
// every active address once, sorted, whatever the page boundaries; nothing left of a longer map.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SqliteStore } from '../../src/grants/sqlite-store.js';
import { MapContent } from '../../src/publish/map-content.js';

const NOW = Date.parse('2026-11-30T12:00:00Z');

function storeWith(active: number, expired: number): { store: SqliteStore; want: string } {
  const store = new SqliteStore(':memory:');
  const ips: string[] = [];
  store.transaction(() => {
    for (let i = 0; i < active + expired; i++) {
      const ip = i % 7 === 0 ? `2001:db8::${i.toString(16)}` : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      const live = i < active;
      store.grantManual(ip, live ? NOW + 60_000 : NOW - 1, NOW - 120_000, 'cli:test');
      if (live) ips.push(ip);
    }
  });
  ips.sort(); // SQLite's BINARY order is JavaScript's for ASCII
  return { store, want: ips.map((ip) => `${ip}\tOK\n`).join('') };
}

describe('map content', () => {
  for (const n of [0, 1, 1999, 2000, 2001, 4000, 4500]) {
    it(`the store writes ${n} active addresses once each, sorted, across pages, without the expired`, () => {
      const { store, want } = storeWith(n, 300);
      const out = new MapContent(16);
      store.mapText(NOW, 'OK', out);
      assert.equal(out.toString(), want);
      assert.equal(out.lines(), n);
    });
  }

  it('a reused buffer holds only the last fill, and equals compares the bytes', () => {
    const big = storeWith(3000, 0).store;
    const small = storeWith(5, 0).store;
    const a = new MapContent(16);
    big.mapText(NOW, 'OK', a);
    const before = a.length;
    small.mapText(NOW, 'OK', a.reset());
    assert.ok(a.length < before);
    assert.equal(a.lines(), 5);
    const b = new MapContent();
    small.mapText(NOW, 'OK', b);
    assert.ok(a.equals(b));
    small.mapText(NOW, 'NO', b.reset());
    assert.equal(a.length, b.length);
    assert.ok(!a.equals(b), 'same length is not enough');
    assert.equal(MapContent.of('é\tOK\n').toString(), 'é\tOK\n', 'UTF-8 kept whole');
  });
});
