import { afterEach, beforeEach, expect } from 'vitest';
import { violations } from './conformance.ts';
import { captureLogs, startTest, unexpectedErrors } from './log-lines.ts';

captureLogs();
beforeEach(() => startTest());

// Every test fails on any conformance violation seen in what it read (test/helpers/conformance.ts),
// and on any ERROR line its gateway logged that the test did not declare its subject.
afterEach(async () => {
  await new Promise((r) => setTimeout(r, 20)); // let tee'd bodies finish their checks
  const seen = violations.splice(0);
  expect(seen, 'conformance violations').toEqual([]);
  expect(unexpectedErrors(), 'ERROR lines this test did not expect (expectErrorLogs)').toEqual([]);
});
