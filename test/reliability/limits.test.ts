// The smaller points of issue 14 (point 6), through the real handler over HTTP: metadata keys
// that are also names of Object.prototype, metadata's 16-pair limit, timing settings that cannot
// work together, and background jobs beyond the concurrency slots, which wait their turn.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../functions/local/gateway.ts';
import { ConfigError } from '../../shared/config.ts';
import { getJson, postJson, startSystem, type System } from '../helpers/harness.ts';
import { sleep } from './system.ts';

const model = 'llama3.2';
/** Keys that are also properties of every object: each is just a name here. */
const PROTO_KEYS = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];
/** A metadata object with these keys as own properties, as JSON.parse makes it (an object literal would set the prototype for `__proto__`). */
const metadataWith = (keys: string[]) => JSON.parse(`{${keys.map((k, i) => `"${k}":"v${i}"`).join(',')}}`) as Record<string, string>;

describe('metadata', () => {
  let sys: System;
  beforeAll(async () => { sys = await startSystem(); });
  afterAll(() => sys?.close());

  it('a conversation keeps keys such as constructor and __proto__ as sent, on create, read and update', async () => {
    const metadata = metadataWith(PROTO_KEYS);
    expect(Object.keys(metadata)).toEqual(PROTO_KEYS);
    const created = await postJson(`${sys.base}/conversations`, { metadata });
    expect(created.status, created.text).toBe(200);
    expect(Object.keys(created.json.metadata)).toEqual(PROTO_KEYS);
    const read = await getJson(`${sys.base}/conversations/${created.json.id}`);
    expect(read.text).toBe(created.text);
    const updated = await postJson(`${sys.base}/conversations/${created.json.id}`, JSON.parse('{"metadata": {"constructor": "x", "__proto__": "y"}}'));
    expect(updated.status, updated.text).toBe(200);
    expect(updated.text).toContain('"metadata":{"constructor":"x","__proto__":"y"}');
    expect((await getJson(`${sys.base}/conversations/${created.json.id}`)).text).toContain('"metadata":{"constructor":"x","__proto__":"y"}');
  });

  it('a response keeps them too, and ({}).polluted stays undefined', async () => {
    const body = `{"model": "${model}", "input": "hi", "metadata": ${JSON.stringify(metadataWith(PROTO_KEYS))}}`;
    const res = await fetch(`${sys.base}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body.replace('"__proto__":"v1"', '"__proto__":{"polluted":"yes"}') });
    // A value that is not a string is a 400 naming it, never a 500 or a polluted prototype.
    expect(res.status).toBe(400);
    expect((await res.json()).error.param).toBe('metadata.__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const ok = await fetch(`${sys.base}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const json = await ok.json();
    expect(ok.status).toBe(200);
    expect(Object.keys(json.metadata)).toEqual(PROTO_KEYS);
    expect(Object.keys((await getJson(`${sys.base}/responses/${json.id}`)).json.metadata)).toEqual(PROTO_KEYS);
  });

  it('has at most 16 pairs: 17 is a 400 naming metadata, on responses and conversations alike', async () => {
    const pairs = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    const sixteen = await postJson(`${sys.base}/responses`, { model, input: 'x', metadata: pairs(16) });
    expect(sixteen.status).toBe(200);
    for (const [path, body] of [['/responses', { model, input: 'x', metadata: pairs(17) }], ['/conversations', { metadata: pairs(17) }]] as const) {
      const res = await postJson(`${sys.base}${path}`, body);
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ type: 'invalid_request_error', param: 'metadata', code: 'invalid_value' });
      expect(res.json.error.message).toMatch(/16/);
    }
  });
});

describe('timing settings that cannot work together stop the start, naming the keys', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['a heartbeat as long as the orphan limit', 'heartbeat_ms: 60000\norphan_after_ms: 60000', /orphan_after_ms \(60000\) must be at least twice heartbeat_ms \(60000\)/],
    ['a slot lease too short for its renewals', 'slot_lease_ms: 300', /slot_lease_ms \(300\) must be at least 1000/],
    ['an upstream time-out beyond Lambda\'s 15 minutes', 'upstream_timeout_ms: 1000000', /upstream_timeout_ms \(1000000\) must be under 900000/],
    ['a background queue beyond Lambda\'s 15 minutes', 'background_queue_ms: 900000', /background_queue_ms/],
  ];
  for (const [name, yaml, message] of cases) {
    it(name, async () => {
      const start = startGateway({ configYaml: `endpoints: ["http://127.0.0.1:9"]\n${yaml}` });
      await expect(start).rejects.toThrow(ConfigError);
      await expect(start).rejects.toThrow(message);
    });
  }
});

describe('background jobs beyond the slots', () => {
  let sys: System;
  beforeAll(async () => {
    sys = await startSystem({
      // Two slots, a foreground wait of 100 ms: a job that took a foreground request's patience
      // would fail at once. background_queue_ms is left at its default.
      extraConfig: 'max_concurrent_connections: 2\nslot_wait_ms: 100\nslot_lease_ms: 2000\nflush_ms: 20\npoll_ms: 50\nheartbeat_ms: 500\nsweep_interval_ms: 3600000',
      retryIntervalMs: 10,
    });
    sys.upstreams[0]!.fallback = { text: 'your turn came', chunkSize: 5, chunkDelayMs: 10 };
  });
  afterAll(() => sys?.close(), 60_000);

  it('200 posted at once all wait their turn and complete; none fails for want of a slot', async () => {
    const t0 = Date.now();
    const posted = await Promise.all(Array.from({ length: 200 }, (_, i) => postJson(`${sys.base}/responses`, { model, input: `job ${i}`, background: true })));
    expect(posted.map((p) => p.status)).toEqual(posted.map(() => 200));
    const ids = posted.map((p) => p.json.id as string);
    let statuses: string[] = [];
    for (let round = 0; round < 120; round++) {
      statuses = await Promise.all(ids.map(async (id) => (await getJson(`${sys.base}/responses/${id}`)).json.status as string));
      if (statuses.every((s) => s !== 'queued' && s !== 'in_progress')) break;
      await sleep(500);
    }
    const counts = statuses.reduce<Record<string, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {});
    console.log(JSON.stringify({ case: '200 background jobs, 2 slots', ms: Date.now() - t0, statuses: counts, max_in_flight: sys.upstreams[0]!.maxInFlight }));
    expect(counts).toEqual({ completed: 200 });
    expect(Math.max(...Object.values(sys.upstreams[0]!.maxInFlight))).toBeLessThanOrEqual(2);
  }, 120_000);
});
