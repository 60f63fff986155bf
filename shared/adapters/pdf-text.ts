// PDF text with unpdf (PDF.js built for servers: pure JavaScript, no worker, no native parts).
// Imported on first use: PDF.js is 1.6 MB of code a gateway that never sees a PDF never loads.
import type { DocumentReader } from '../ports.ts';

export const pdfReader: DocumentReader = {
  async pdfText(bytes, maxChars) {
    const { getDocumentProxy } = await import('unpdf');
    // PDF.js takes ownership of (detaches) the buffer it is given: hand it a copy.
    const pdf = await getDocumentProxy(new Uint8Array(bytes), { stopAtErrors: false, verbosity: 0 });
    try {
      const pages: string[] = [];
      let length = 0;
      for (let n = 1; n <= pdf.numPages; n++) {
        const content = await (await pdf.getPage(n)).getTextContent();
        const text = content.items.map((item) => ('str' in item ? item.str + (item.hasEOL ? '\n' : '') : '')).join('');
        pages.push(text);
        length += text.length + 2;
        // A small file can hold a great deal of text (compressed streams): stop at what a model can read.
        if (length > maxChars) return { text: pages.join('\n\n').slice(0, maxChars), truncated: true };
      }
      return { text: pages.join('\n\n').trim(), truncated: false };
    } finally {
      await pdf.loadingTask.destroy();
    }
  },
};
