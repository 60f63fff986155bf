import { Readable } from 'node:stream';

/**
 * A finished body (JSON) as bytes for middy's streaming mode, which takes a string or a stream.
 * A string body is written in 16,384-unit substrings, each encoded to UTF-8 on its own: an emoji
 * (two UTF-16 units) cut in two became two U+FFFD, locally and under the Lambda runtime alike. A
 * stream is piped chunk by chunk as it is, so the text is encoded once, here, and this one Buffer
 * is the one write the Lambda response stream gets (as the string was, when it was short).
 */
export function bytesBody(bytes: Buffer): Readable {
  return new Readable({
    read() {
      this.push(bytes);
      this.push(null);
    },
  });
}
