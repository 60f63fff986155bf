// A background job started in the API's own process (npm start) is handed the record the API just
// stored: it calls its upstream at once, reading and writing nothing first. Its first log write
// claims the record (queued -> in_progress under its lease), or a claim flush_ms in, whichever
// comes first; a claim refused (a cancel came first) stops it. The claim's UpdateItem is held on
// the gateway's real DynamoDB client, in front of dynalite, to see what happens meanwhile.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { postJson, sseEvents, startSystem, type System } from '../helpers/harness.ts';

let sys: System;
let up: System['upstreams'][number];
const model = 'test-model';

let hold: Promise<void> | null = null;
let heldClaims = 0;

beforeAll(async () => {
  sys = await startSystem({
    upstreams: [{ flavor: 'ollama', models: ['test-model:latest'] }],
    extraConfig: 'flush_ms: 1500\npoll_ms: 20\nheartbeat_ms: 30000\norphan_after_ms: 60000\nsweep_interval_ms: 3600000',
    retryIntervalMs: 10,
  });
  up = sys.upstreams[0]!;
  sys.gw.dynamo.client.middlewareStack.add((next, context) => async (args) => {
    const input = args.input as { ConditionExpression?: string; ReturnValues?: string };
    const claim = context.commandName === 'UpdateItemCommand' && input.ReturnValues === 'ALL_NEW' && input.ConditionExpression?.includes(':queued');
    if (claim && hold) {
      heldClaims++;
      await Promise.race([hold, new Promise((r) => setTimeout(r, 10_000))]); // bounded
    }
    return next(args);
  }, { step: 'build', name: 'testHoldClaims' });
});
afterAll(() => sys.close());

/** Chat requests the upstream got (model lists and the like left out). */
const chats = () => up.requests.filter((r) => r.method === 'POST').length;
/** Holds every claim from now on, counting them, until the function it returns lets them (and later ones) pass. */
function holdClaims(): () => void {
  let release!: () => void;
  hold = new Promise<void>((r) => { release = r; });
  heldClaims = 0;
  return () => { release(); hold = null; };
}
const status = async (id: string) => ((await (await fetch(`${sys.base}/responses/${id}`)).json()) as { status: string }).status;

it('is claimed by its first log write: in_progress from its first output, completed at its end, no claim of its own', async () => {
  const release = holdClaims();
  try {
    up.script({ deltas: ['handed', ' over', ' here'], chunkDelayMs: 200 });
    const before = chats();
    const res = await fetch(`${sys.base}/responses`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, input: 'hand it over', background: true, stream: true }),
    });
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = '';
    while (!text.includes('response.output_text.delta')) text += dec.decode((await reader.read()).value, { stream: true });
    const id = /"id":"(resp_[^"]+)"/.exec(text)![1]!;
    expect(await status(id)).toBe('in_progress'); // the first output's write claimed it
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
    }
    const events = sseEvents(text);
    const end = events.at(-1)!.data;
    expect(end.type).toBe('response.completed');
    expect(end.response.output_text).toBe('handed over here');
    expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i));
    expect(chats()).toBe(before + 1);
    expect(heldClaims).toBe(0); // no claim of its own was needed
    expect(await status(id)).toBe('completed');
    const replay = sseEvents(await (await fetch(`${sys.base}/responses/${id}?stream=true`)).text());
    expect(replay.map((e) => e.data)).toEqual(events.map((e) => e.data));
  } finally {
    release();
  }
});

it('with no output by flush_ms it claims the record itself; refused (a cancel came first), it stops: the upstream call is aborted, the response stays cancelled', async () => {
  const release = holdClaims();
  try {
    up.script({ text: 'never sent', delayMs: 5_000 }); // the first byte would come after 5 s
    const created = await postJson(`${sys.base}/responses`, { model, input: 'cancel me early', background: true });
    const id = created.json.id as string;
    for (let i = 0; i < 200 && Object.values(up.inFlight).every((n) => n === 0); i++) await new Promise((r) => setTimeout(r, 10));
    expect(Object.values(up.inFlight)).toEqual([1]); // called at once
    expect(await status(id)).toBe('queued'); // not claimed yet
    for (let i = 0; i < 300 && heldClaims === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(heldClaims).toBe(1); // its own claim, flush_ms in (held here)
    expect((await postJson(`${sys.base}/responses/${id}/cancel`, {})).json.status).toBe('cancelled');
    release(); // the claim is refused: the worker stops the upstream call
    for (let i = 0; i < 200 && Object.values(up.inFlight).some((n) => n > 0); i++) await new Promise((r) => setTimeout(r, 10));
    expect(Object.values(up.inFlight).every((n) => n === 0)).toBe(true); // aborted well before its 5 s answer
    expect(await status(id)).toBe('cancelled');
  } finally {
    release();
  }
});
