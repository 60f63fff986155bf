// zod/mini loads no locale (classic zod loads English on its own): without this, every issue's
// message is a bare "Invalid input". Our 400s (validate.ts) and config errors (config.ts) quote
// zod's English messages, so both import this module before they parse anything. English alone:
// `z.locales.en()` would bundle every locale (250 KiB more).
import { en } from 'zod/locales';
import * as z from 'zod/mini';

z.config(en());
