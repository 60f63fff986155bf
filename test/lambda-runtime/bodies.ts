// Bodies that catch a writer which cuts text by UTF-16 code units instead of bytes.

/** middy 7 (which we used before) wrote a string body in slices of this many UTF-16 code units. */
export const SLICE_UNITS = 16_384;

/**
 * About 64 Ki code units of emoji (two code units each) in runs of 8,192 emoji plus one 'a', so
 * the emoji's parity flips every 16,385 units: wherever the text starts in a body, some multiple of
 * 16,384 falls between the two halves of an emoji.
 */
export function emojiText(runs = 4): string {
  return `${'\u{1F600}'.repeat(SLICE_UNITS / 2)}a`.repeat(runs);
}
