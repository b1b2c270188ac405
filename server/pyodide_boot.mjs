// PyScript's "interpreter" (pyscript.toml): Pyodide from this server, restored from a memory
// snapshot when setup made one for this exact Pyodide build (server/assets.py, rule 3).
// The server fills in the two URLs below each time it sends this module. They are resolved
// against this module's own URL, so a page of another origin (static/embed.js) gets them from
// this server too.
const indexURL = new URL("__INDEX_URL__", import.meta.url).href;
const snapshotPath = "__SNAPSHOT_URL__"; // null when there is no snapshot
const snapshotURL = snapshotPath && new URL(snapshotPath, import.meta.url).href;

// The snapshot download starts now, alongside Pyodide's module rather than after it.
const snapshot = snapshotURL ? fetch(snapshotURL).catch(() => null) : Promise.resolve(null);
const { loadPyodide: load, version } = await import(indexURL + "pyodide.mjs");

export { version };

// Python state that every page restored from one snapshot would otherwise share: the random
// module's seed, and the timezone read when the snapshot was made; and the import system's
// view of directories, which the page fills with its files after the restore.
const AFTER_RESTORE = [
  "import importlib, random, time",
  "random.seed()",
  "if hasattr(time, 'tzset'): time.tzset()",
  "importlib.invalidate_caches()",
].join("\n");

async function start() {
  const response = await snapshot;
  if (response) {
    try {
      if (response.ok) {
        const pyodide = await load({ indexURL, _loadSnapshot: response.arrayBuffer() });
        pyodide.runPython(AFTER_RESTORE);
        return pyodide;
      }
    } catch (error) {
      console.warn("The Pyodide snapshot could not be used; starting without it.", error);
    }
  }
  return load({ indexURL });
}

// Started as soon as this module runs: index.html imports it before PyScript, so Pyodide loads
// while PyScript fetches its own modules and config.
let early = start();

/** What PyScript calls: the Pyodide started above, with PyScript's output hooks. */
export async function loadPyodide(options = {}) {
  const { stdout, stderr, indexURL: _ignored, ...rest } = options;
  const pyodide = early && Object.keys(rest).length === 0 ? await early : null;
  early = null; // A second interpreter on the page gets its own.
  if (pyodide === null) {
    // Options the early start did not have (packages, a lock file): a start that honours them.
    return load({ ...options, indexURL });
  }
  if (stdout) pyodide.setStdout({ batched: stdout });
  if (stderr) pyodide.setStderr({ batched: stderr });
  return pyodide;
}
