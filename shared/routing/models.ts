// Model-name matching as the Python router does it: Ollama treats an untagged name as
// `:latest`, and OpenAI-style endpoints have no tags at all.

const withLatest = (name: string) => (name.includes(':') ? name : `${name}:latest`);
const withoutLatest = (name: string) => name.replace(/:latest$/, '');

/** The name to send to the endpoint for `requested`, or null when it does not serve it. */
export function matchModel(requested: string, advertised: readonly string[]): string | null {
  if (advertised.includes(requested)) return requested;
  const tagged = withLatest(requested);
  const found = advertised.find((m) => m === tagged || withLatest(m) === tagged);
  if (found) return found;
  const bare = withoutLatest(requested);
  return advertised.find((m) => withoutLatest(m) === bare && !m.includes(':')) ?? null;
}
