import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/**
 * A conditional write's output, or null when its condition did not hold (a missing item, another
 * owner, a lost race: the stores' "not found" or "not yours"); any other error is thrown.
 */
export async function conditionalWrite<T>(write: Promise<T>): Promise<T | null> {
  try {
    return await write;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return null;
    throw err;
  }
}
