import type { Config } from '../config.ts';
import type { Backend, BackgroundLauncher, CacheStore, Clock, ConversationStore, DocumentReader, EventLog, ResponseStore } from '../ports.ts';
import type { Router } from '../routing/router.ts';
import type { Sealer } from '../protocol/sealed.ts';

/** Everything a service call needs: built by the composition root (functions/services.ts) and passed in. */
export interface Services {
  store: ResponseStore;
  /** Background responses' event logs. */
  events: EventLog;
  /** Conversations and their items (`/v1/conversations`, `conversation` on create). */
  conversations: ConversationStore;
  /** The response cache: completed answers by request key. */
  cache: CacheStore;
  backend: Backend;
  /** Endpoint choice, global concurrency slots, retries and failover. */
  router: Router;
  clock: Clock;
  /** PDF text, for Chat endpoints that take files as text. */
  documents: DocumentReader;
  config: Config;
  /** Seals and opens the `encrypted_content` the gateway hands out on Chat backends. */
  sealer: Sealer;
  launcher: BackgroundLauncher;
}

/** Who is calling: the principal owns what it stores. */
export interface Caller {
  principal: string;
}
