import { randomBytes } from 'node:crypto';

// Ids are a prefix and 32 random hex characters (OpenAI's style; DESIGN asks for >= 24).
export type IdPrefix = 'resp' | 'msg' | 'fc' | 'rs' | 'call' | 'conv' | 'item';

export const newId = (prefix: IdPrefix): string => `${prefix}_${randomBytes(16).toString('hex')}`;

/** Ids we issue; anything else (path characters, other prefixes) is rejected before any lookup. */
export const isResponseId = (id: string): boolean => /^resp_[A-Za-z0-9]{1,128}$/.test(id);
