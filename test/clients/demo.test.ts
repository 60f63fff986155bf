// `npm run demo` is the first thing the README tells people to try: it must keep working.
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('npm run demo tours the gateway end to end', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'test/demo/run.ts'], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  const out = run.stdout;
  expect(out).toContain('The answer is 42.');
  expect(out).toContain('the model was sent 3 messages: user, assistant, user');
  expect(out).toContain('the model calls get_weather({"city":"Paris"})');
  expect(out).toContain('It is 18 °C in Paris right now.');
  expect(out).toMatch(/completed: 2000 characters so far/);
  expect(out).toMatch(/cancelled: status cancelled/);
  expect(out).toMatch(/same text: true, new id: true/);
  expect(out).toContain('the model was called 1 time(s) for the two requests');
}, 70_000);
