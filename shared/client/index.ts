// Clients of the deployed gateway: a SigV4-signing fetch for the IAM-auth Function URL.
export { createSignedFetch, regionFromFunctionUrl, type SignedFetchOptions } from './signed-fetch.ts';
