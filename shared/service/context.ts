import type { Config } from '../config.ts';
import type { Backend, BackgroundLauncher, CacheStore, Clock, ConversationStore, ResponseStore } from '../ports.ts';
import type { Router } from '../routing/router.ts';

/** Everything a service call needs; built once per process (cold start) and reused. */
export interface Services {
  store: ResponseStore;
  /** Conversations and their items (`/v1/conversations`, `conversation` on create). */
  conversations: ConversationStore;
  /** The response cache (issue 5): completed answers by request key. */
  cache: CacheStore;
  backend: Backend;
  /** Endpoint choice, global concurrency slots, retries and failover. */
  router: Router;
  clock: Clock;
  config: Config;
  launcher: BackgroundLauncher;
}

/** Who is calling: the principal owns what it stores. */
export interface Caller {
  principal: string;
}
