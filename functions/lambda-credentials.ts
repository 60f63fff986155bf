// Lambda gives every function its role's credentials in its environment (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). The Lambda bundles take them from there, in place of
// the SDK's default chain (SSO, profiles, containers, instance metadata, STS: a sixth of a
// bundle), by an esbuild alias of `@aws-sdk/credential-provider-node` (infra/bundling.ts).
// Tests and `npm start` run from source, with the SDK's own chain.
import { credentialsFromEnv } from '../shared/adapters/aws-json.ts';

export const defaultProvider = () => async () => {
  const credentials = credentialsFromEnv(process.env);
  if (!credentials) throw new Error('no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
  return credentials;
};
