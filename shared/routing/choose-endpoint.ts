import { ApiError } from '../protocol/errors.ts';
import type { Backend, Clock, Endpoint } from '../ports.ts';
import { log } from '../log.ts';
import { maskUrls } from '../redact.ts';
import { matchModel } from './models.ts';

export interface Choice { endpoint: Endpoint; model: string }

/**
 * The concurrency key of an endpoint-model: what `max_concurrent_connections` counts. The URL's
 * credentials are masked: the key is stored in DynamoDB and named in log lines.
 */
export const slotKey = (c: Choice) => `${maskUrls(c.endpoint.url)}|${c.model}`;

/** An endpoint's URL as it may be shown (to clients, in logs): its credentials masked. */
export const endpointName = (ep: Endpoint): string => maskUrls(ep.url);

export interface ChooserOptions {
  /** How long a fetched list (models, loaded models) is trusted; stale ones are served while refreshed. */
  ttlMs: number;
  /** How long a failed fetch is remembered, so a dead endpoint is not asked on every request. */
  failureTtlMs?: number;
  fetchTimeoutMs?: number;
  /** A model no list has makes the lists older than this be fetched again at once (a model pulled a moment ago). */
  missRefreshMs?: number;
  /** Requests this endpoint-model is serving now, as far as this process knows (for "least loaded"). */
  loadOf?: (c: Choice) => number;
}

interface Cached<T> { value: T; fetchedAt: number; error: string | null }

/**
 * Per-endpoint lists with stale-while-revalidate; a failure leaves `fallback(previous)` for a
 * while, and is logged once per change of the endpoint's state (failing, failing otherwise, back).
 */
class ListCache<T> {
  private readonly entries = new Map<string, Cached<T>>();
  /** Fetches under way, by endpoint: one at a time each, whoever asks. */
  private readonly fetching = new Map<string, Promise<void>>();

  constructor(
    private readonly what: string,
    private readonly clock: Clock,
    private readonly opts: ChooserOptions,
    private readonly fetch: (ep: Endpoint) => Promise<T>,
    private readonly fallback: (previous: T | undefined) => T,
  ) {}

  /** The list; `olderThanMs`: fetched again first (single-flight) if it is older than that and not failing. */
  async get(ep: Endpoint, olderThanMs?: number): Promise<T> {
    const cached = this.entries.get(ep.url);
    const age = cached ? this.clock.nowMs() - cached.fetchedAt : Infinity;
    if (cached?.error === null && olderThanMs !== undefined && age >= olderThanMs) await this.refresh(ep);
    else if (!cached || age >= (cached.error === null ? this.opts.ttlMs : (this.opts.failureTtlMs ?? 5_000))) {
      // Stale and good: serve it and refresh in the background; missing or failed: wait for it.
      if (cached?.error === null) void this.refresh(ep);
      else await this.refresh(ep);
    }
    return this.entries.get(ep.url)!.value;
  }

  /** The list as last fetched, without fetching (undefined when never fetched). */
  peek(ep: Endpoint): T | undefined {
    return this.entries.get(ep.url)?.value;
  }

  /** Why the endpoint's last fetch failed, or null. */
  errorOf(ep: Endpoint): string | null {
    return this.entries.get(ep.url)?.error ?? null;
  }

  private refresh(ep: Endpoint): Promise<void> {
    const under = this.fetching.get(ep.url);
    if (under) return under;
    const cached = this.entries.get(ep.url);
    const refreshing = this.fetch(ep).then(
      (value) => {
        if (cached?.error) log.info(`${this.what} of an endpoint can be read again`, { endpoint: endpointName(ep) });
        this.entries.set(ep.url, { value, fetchedAt: this.clock.nowMs(), error: null });
      },
      (err: unknown) => {
        const error = String((err as Error)?.message ?? err);
        if (cached?.error !== error) log.warn(`${this.what} of an endpoint cannot be read`, { endpoint: endpointName(ep), reason: error });
        this.entries.set(ep.url, { value: this.fallback(cached?.value), fetchedAt: this.clock.nowMs(), error });
      },
    ).finally(() => this.fetching.delete(ep.url));
    this.fetching.set(ep.url, refreshing);
    return refreshing;
  }
}

/**
 * The spec's `choose_endpoint`, as a ranking: the endpoints that advertise the model, those
 * that have it loaded (`/api/ps`) first, then the least loaded, ties in config order. The slot
 * leases (slots.ts) then take the first one with a free slot, so the result is "loaded with a
 * free slot, else the least loaded with a free slot".
 */
export class EndpointChooser {
  private readonly modelLists: ListCache<string[]>;
  private readonly loaded: ListCache<string[] | null>;
  /** When each model name was first seen in a list (epoch seconds): its `created` in /v1/models. */
  private readonly firstSeen = new Map<string, number>();

  constructor(
    private readonly endpoints: readonly Endpoint[],
    backend: Backend,
    private readonly clock: Clock,
    private readonly opts: ChooserOptions,
  ) {
    const call = () => ({ timeoutMs: opts.fetchTimeoutMs ?? 5_000 });
    this.modelLists = new ListCache('the model list', clock, opts, (ep) => backend.listModels(ep, call()), (prev) => prev ?? []);
    // A failed /api/ps says nothing is known to be loaded there.
    this.loaded = new ListCache('the list of loaded models', clock, opts, (ep) => backend.listLoaded(ep, call()), () => []);
  }

  /**
   * Candidates best first. A model no list has makes the lists be fetched again at once (so a
   * model pulled a moment ago is served). Still none: 503 when no endpoint could be asked, else
   * 404; either names every endpoint that could not be asked, and why.
   */
  async rank(model: string): Promise<Choice[]> {
    let ranked = await this.candidates(model);
    if (ranked.length === 0) ranked = await this.candidates(model, this.opts.missRefreshMs ?? 1_000);
    if (ranked.length > 0) return ranked;
    const down = this.endpoints.map((ep) => [ep, this.modelLists.errorOf(ep)] as const).filter(([, error]) => error !== null);
    const why = down.map(([ep, error]) => `${endpointName(ep)} (${error})`).join('; ');
    if (down.length > 0 && down.length === this.endpoints.length) {
      throw new ApiError(503, `The model '${model}' cannot be served: no endpoint could be reached: ${why}.`, 'server_error', 'model', 'endpoints_unreachable');
    }
    const none = this.endpoints.length === 0 ? ' (none is configured)' : '';
    const unasked = down.length > 0 ? ` These endpoints could not be asked: ${why}.` : '';
    throw new ApiError(404, `The model '${model}' does not exist or is not served by any configured endpoint${none}.${unasked}`, 'invalid_request_error', 'model', 'model_not_found');
  }

  /** The ranking from the lists already fetched, asking no endpoint (empty when they say nothing of the model). */
  peek(model: string): Choice[] {
    return this.rankFrom(model, this.endpoints.map((ep) => [this.modelLists.peek(ep) ?? [], this.loaded.peek(ep) ?? []]));
  }

  /** Every model name the endpoints advertise, each once, with when it was first seen (epoch seconds). */
  async models(): Promise<Map<string, number>> {
    const lists = await Promise.all(this.endpoints.map((ep) => this.modelLists.get(ep)));
    const out = new Map<string, number>();
    for (const name of lists.flat()) {
      if (!this.firstSeen.has(name)) this.firstSeen.set(name, Math.floor(this.clock.nowMs() / 1000));
      out.set(name, this.firstSeen.get(name)!);
    }
    return out;
  }

  private async candidates(model: string, olderThanMs?: number): Promise<Choice[]> {
    const lists = await Promise.all(this.endpoints.map((ep) => Promise.all([this.modelLists.get(ep, olderThanMs), this.loaded.get(ep, olderThanMs)])));
    return this.rankFrom(model, lists);
  }

  private rankFrom(model: string, lists: ReadonlyArray<readonly [string[], string[] | null]>): Choice[] {
    const ranked: Array<{ choice: Choice; loaded: boolean; load: number; order: number }> = [];
    this.endpoints.forEach((endpoint, order) => {
      const [models, loaded] = lists[order]!;
      const name = matchModel(model, models);
      if (!name) return;
      const choice = { endpoint, model: endpoint.kind === 'responses' ? name.replace(/:latest$/, '') : name };
      ranked.push({ choice, loaded: loaded === null || matchModel(name, loaded) !== null, load: this.opts.loadOf?.(choice) ?? 0, order });
    });
    ranked.sort((a, b) => Number(b.loaded) - Number(a.loaded) || a.load - b.load || a.order - b.order);
    return ranked.map((r) => r.choice);
  }
}
