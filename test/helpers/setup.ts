import { afterEach, expect } from 'vitest';
import { violations } from './conformance.ts';

// Every test fails on any conformance violation seen in what it read (test/helpers/conformance.ts).
afterEach(async () => {
  await new Promise((r) => setTimeout(r, 20)); // let tee'd bodies finish their checks
  const seen = violations.splice(0);
  expect(seen, 'conformance violations').toEqual([]);
});
