/**
 * Runs `VACUUM INTO` on a separate read-only connection in a worker thread, so the server's thread keeps
 * answering requests while a large database is copied. The worker's source is inlined and started from a
 * Blob URL: a compiled binary cannot start a worker from a file path unless the build lists it as an extra
 * entry point, and this way nothing about the build has to know.
 */

const source = `
import { Database } from "bun:sqlite";
self.onmessage = (event) => {
  const { database, target } = event.data;
  let db;
  try {
    db = new Database(database, { readonly: true });
    db.run("PRAGMA busy_timeout = 5000");
    db.run("VACUUM INTO '" + target.replaceAll("'", "''") + "'");
    postMessage({ ok: true });
  } catch (err) {
    postMessage({ ok: false, message: String(err && err.message || err), code: err && err.code });
  } finally {
    try { db && db.close(); } catch {}
  }
};
`;

let url: string | undefined;

/** Copy the database file `database` into `target` from a worker thread. */
export function vacuumIntoInWorker(database: string, target: string): Promise<void> {
  url ??= URL.createObjectURL(new Blob([source], { type: "application/javascript" }));
  const worker = new Worker(url);
  return new Promise<void>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<{ ok: boolean; message?: string; code?: string }>) => {
      worker.terminate();
      if (event.data.ok) resolve();
      else
        reject(Object.assign(new Error(`backup failed: ${event.data.message}`), { code: event.data.code }));
    };
    worker.onerror = (event) => {
      worker.terminate();
      reject(new Error(`backup worker failed: ${event.message}`));
    };
    worker.postMessage({ database, target });
  });
}
