// Preloaded (node --require) into Electron's own installer by scripts/desktop.mjs. The installer prints a
// failure as a whole stack trace; this sends what it prints with console.error to fd 3, where desktop.mjs
// keeps its first line, and names the host and cause of a failed download (Node's fetch says only "fetch
// failed"). Its progress bar still goes to the terminal.
const { writeSync } = require('node:fs');
const { format } = require('node:util');

console.error = (...args) => {
  try {
    writeSync(3, `${format(...args)}\n`);
  } catch {
    /* fd 3 closed: the parent has gone */
  }
};

const fetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  try {
    return await fetch(input, init);
  } catch (err) {
    const host = new URL(String(input?.url ?? input)).host;
    const cause = err?.cause?.code ?? err?.cause?.message ?? err?.message;
    throw new Error(`cannot reach ${host} (${cause})`, { cause: err });
  }
};
