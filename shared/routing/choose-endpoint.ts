import { ApiError } from '../protocol/errors.ts';
import type { Backend, Clock, Endpoint } from '../ports.ts';
import { matchModel } from './models.ts';
import { maskUrls } from '../redact.ts';

export interface Choice { endpoint: Endpoint; model: string }

/**
 * The concurrency key of an endpoint-model: what `max_concurrent_connections` counts. The URL's
 * credentials are masked: the key is stored in DynamoDB and named in log lines.
 */
export const slotKey = (c: Choice) => `${maskUrls(c.endpoint.url)}|${c.model}`;

export interface ChooserOptions {
  /** How long a fetched list (models, loaded models) is trusted; stale ones are served while refreshed. */
  ttlMs: number;
  /** How long a failed fetch is remembered, so a dead endpoint is not asked on every request. */
  failureTtlMs?: number;
  fetchTimeoutMs?: number;
  /** Requests this endpoint-model is serving now, as far as this process knows (for "least loaded"). */
  loadOf?: (c: Choice) => number;
}

interface Cached<T> { value: T; fetchedAt: number; ok: boolean; refreshing?: Promise<void> }

/** Per-endpoint lists with stale-while-revalidate; a failure leaves `fallback(previous)` for a while. */
class ListCache<T> {
  private readonly entries = new Map<string, Cached<T>>();

  constructor(
    private readonly clock: Clock,
    private readonly opts: ChooserOptions,
    private readonly fetch: (ep: Endpoint) => Promise<T>,
    private readonly fallback: (previous: T | undefined) => T,
  ) {}

  async get(ep: Endpoint): Promise<T> {
    const cached = this.entries.get(ep.url);
    const ttl = cached?.ok === false ? (this.opts.failureTtlMs ?? 5_000) : this.opts.ttlMs;
    if (cached && this.clock.nowMs() - cached.fetchedAt < ttl) return cached.value;
    if (cached?.ok) {
      // Stale: serve it and refresh in the background.
      cached.refreshing ??= this.refresh(ep).finally(() => { cached.refreshing = undefined; });
      return cached.value;
    }
    await this.refresh(ep);
    return this.entries.get(ep.url)!.value;
  }

  private async refresh(ep: Endpoint): Promise<void> {
    try {
      this.entries.set(ep.url, { value: await this.fetch(ep), fetchedAt: this.clock.nowMs(), ok: true });
    } catch {
      this.entries.set(ep.url, { value: this.fallback(this.entries.get(ep.url)?.value), fetchedAt: this.clock.nowMs(), ok: false });
    }
  }
}

/**
 * The spec's `choose_endpoint`, as a ranking: the endpoints that advertise the model, those
 * that have it loaded (`/api/ps`) first, then the least loaded, ties in config order. The slot
 * leases (slots.ts) then take the first one with a free slot, so the result is "loaded with a
 * free slot, else the least loaded with a free slot".
 */
export class EndpointChooser {
  private readonly models: ListCache<string[]>;
  private readonly loaded: ListCache<string[] | null>;

  constructor(
    private readonly endpoints: readonly Endpoint[],
    backend: Backend,
    clock: Clock,
    private readonly opts: ChooserOptions,
  ) {
    const call = () => ({ timeoutMs: opts.fetchTimeoutMs ?? 5_000 });
    this.models = new ListCache(clock, opts, (ep) => backend.listModels(ep, call()), (prev) => prev ?? []);
    // A failed /api/ps says nothing is known to be loaded there.
    this.loaded = new ListCache(clock, opts, (ep) => backend.listLoaded(ep, call()), () => []);
  }

  /** Candidates best first; 404 when no endpoint serves the model. */
  async rank(model: string): Promise<Choice[]> {
    const lists = await Promise.all(this.endpoints.map((ep) => Promise.all([this.models.get(ep), this.loaded.get(ep)])));
    const ranked: Array<{ choice: Choice; loaded: boolean; load: number; order: number }> = [];
    this.endpoints.forEach((endpoint, order) => {
      const [models, loaded] = lists[order]!;
      const name = matchModel(model, models);
      if (!name) return;
      const choice = { endpoint, model: endpoint.kind === 'responses' ? name.replace(/:latest$/, '') : name };
      ranked.push({ choice, loaded: loaded === null || matchModel(name, loaded) !== null, load: this.opts.loadOf?.(choice) ?? 0, order });
    });
    if (ranked.length === 0) {
      throw new ApiError(404, `The model '${model}' does not exist or is not served by any configured endpoint.`, 'invalid_request_error', 'model', 'model_not_found');
    }
    ranked.sort((a, b) => Number(b.loaded) - Number(a.loaded) || a.load - b.load || a.order - b.order);
    return ranked.map((r) => r.choice);
  }
}
