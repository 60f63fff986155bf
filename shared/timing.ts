/** Resolves when `p` settles (either way) or after `ms`, whichever comes first: a bounded wait for a drain. */
export async function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  await within(p.then(() => undefined, () => undefined), ms);
}

/** True when `p` resolves within `ms` (false after `ms`, or as soon as `signal` fires); its rejection is thrown. */
export async function within(p: Promise<unknown>, ms: number, signal?: AbortSignal): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const timeout = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(false), Math.max(0, ms));
    onAbort = () => r(false);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
