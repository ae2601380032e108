// zod compiles fast object parsers with `new Function` unless told not to. The app's Content-Security-Policy
// forbids eval, and Chromium reports even zod's probe for it as a violation (a console error). main.ts imports
// this first, before the parameter schema's objects are built.
import { z } from 'zod';

z.config({ jitless: true });
