// PyScript's "interpreter" (pyscript.toml): Pyodide from this server, restored from a memory
// snapshot when setup made one for this exact Pyodide build (server/assets.py, rule 3).
// The server fills in the two URLs below each time it sends this module. They are resolved
// against this module's own URL, so a page of another origin (static/embed.js) gets them from
// this server too.
const indexURL = new URL("__INDEX_URL__", import.meta.url).href;
const snapshotPath = "__SNAPSHOT_URL__"; // null when there is no snapshot
const snapshotURL = snapshotPath && new URL(snapshotPath, import.meta.url).href;

// Marks on the page's performance timeline (latchkey:boot, latchkey:snapshot-fetched,
// latchkey:restored), to see where a start goes: performance.getEntriesByType("mark").
performance.mark("latchkey:boot");
// The snapshot download starts now, alongside Pyodide's module rather than after it.
const snapshot = snapshotURL ? fetch(snapshotURL).catch(() => null) : Promise.resolve(null);
const { loadPyodide: load, version } = await import(indexURL + "pyodide.mjs");

export { version };

// Python state that every page restored from one snapshot would otherwise share: the random
// module's seed, and the timezone read when the snapshot was made; and the import system's
// view of directories, which the page fills with its files after the restore. Only the
// directories' finders: the standard library's zipimporter keeps the table of contents of the
// zip the snapshot was made with, which is the zip served with it (server/assets.py,
// SNAPSHOTS); reading it again costs 0.15 to 0.5 s here, so it is done only when a member
// is not where that table says (a zip other than the snapshot's).
const AFTER_RESTORE = `
import random, sys, time, zipimport
from importlib.machinery import FileFinder
random.seed()
if hasattr(time, "tzset"):
    time.tzset()
def _latchkey_refresh_finders():
    for finder in list(sys.path_importer_cache.values()):
        if isinstance(finder, FileFinder):
            finder.invalidate_caches()
        elif isinstance(finder, zipimport.zipimporter):
            try:
                toc = list(zipimport._zip_directory_cache[finder.archive].values())
                with open(finder.archive, "rb") as archive:
                    for entry in toc[:: max(1, len(toc) // 8)]:
                        archive.seek(entry[4])
                        header = archive.read(30)
                        if (header[:4] != b"PK\\x03\\x04"
                                or int.from_bytes(header[8:10], "little") != entry[1]
                                or int.from_bytes(header[18:22], "little") != entry[2]):
                            raise ValueError(finder.archive)
            except Exception:
                finder.invalidate_caches()
_latchkey_refresh_finders()
del _latchkey_refresh_finders, FileFinder
`;

// The snapshot is stored without its zero pages (server/snapshot.py, rule 4): "LKPG", the page
// size and the memory's length, a bitmap of the pages present, then those pages.
function withZeroPages(buffer) {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  if (bytes.length < 12 || view.getUint32(0, true) !== 0x47504b4c) return bytes;
  const page = view.getUint32(4, true), length = view.getUint32(8, true);
  const count = Math.ceil(length / page);
  const memory = new Uint8Array(length);
  let at = 12 + Math.ceil(count / 8);
  for (let index = 0; index < count; index++) {
    if (bytes[12 + (index >> 3)] & (1 << (index & 7))) {
      const size = Math.min(page, length - index * page);
      memory.set(bytes.subarray(at, at + size), index * page);
      at += size;
    }
  }
  if (at !== bytes.length) throw new Error("The snapshot is truncated.");
  return memory;
}

async function start() {
  const response = await snapshot;
  if (response) {
    try {
      if (response.ok) {
        const memory = response.arrayBuffer().then((bytes) => {
          performance.mark("latchkey:snapshot-fetched");
          return withZeroPages(bytes);
        });
        const pyodide = await load({ indexURL, _loadSnapshot: memory });
        pyodide.runPython(AFTER_RESTORE);
        performance.mark("latchkey:restored");
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

// A zip archive whose members are all stored (not deflated), as /app.zip is
// (server/app_archive.py, rule 4): its files written from JavaScript. Pyodide's own
// unpackArchive does it in Python, one member at a time (about 0.2 s for /app.zip on a warm
// visit here, 0.5 s on a cold one). Anything else (deflated members, zip64, a path outside
// the target, a shared library Pyodide would have to load) returns false, untouched, for
// Pyodide to unpack.
function unpackStoredZip(pyodide, buffer, extractDir) {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = bytes.length - 22;
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end--;
  if (end < 0) return false;
  const names = new TextDecoder();
  const members = [];
  let at = view.getUint32(end + 16, true);
  for (let i = view.getUint16(end + 10, true); i > 0; i--) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50) return false;
    const size = view.getUint32(at + 20, true), local = view.getUint32(at + 42, true);
    const nameLength = view.getUint16(at + 28, true);
    const name = names.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    const parts = name.split("/");
    if (view.getUint16(at + 10, true) !== 0 || size !== view.getUint32(at + 24, true)
        || name.startsWith("/") || parts.includes("..") || /\.so(\.|$)/.test(name)
        || local + 30 > bytes.length || view.getUint32(local, true) !== 0x04034b50) {
      return false;
    }
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (start + size > bytes.length) return false;
    members.push([name, bytes.subarray(start, start + size)]);
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  const { FS } = pyodide;
  const root = pyodide._module.PATH_FS.resolve(extractDir || ".");
  for (const [name, data] of members) {
    const path = root + "/" + name;
    if (name.endsWith("/")) {
      FS.mkdirTree(path);
    } else {
      FS.mkdirTree(path.slice(0, path.lastIndexOf("/")));
      FS.writeFile(path, data);
    }
  }
  return true;
}

function withFastUnpack(pyodide) {
  const unpack = pyodide.unpackArchive.bind(pyodide);
  pyodide.unpackArchive = (buffer, format, options = {}) => {
    if (/^\.?zip$/.test(format) && unpackStoredZip(pyodide, buffer, options.extractDir)) return;
    return unpack(buffer, format, options);
  };
  return pyodide;
}

/** What PyScript calls: the Pyodide started above, with PyScript's output hooks. */
export async function loadPyodide(options = {}) {
  const { stdout, stderr, indexURL: _ignored, ...rest } = options;
  const pyodide = early && Object.keys(rest).length === 0 ? await early : null;
  early = null; // A second interpreter on the page gets its own.
  if (pyodide === null) {
    // Options the early start did not have (packages, a lock file): a start that honours them.
    return withFastUnpack(await load({ ...options, indexURL }));
  }
  if (stdout) pyodide.setStdout({ batched: stdout });
  if (stderr) pyodide.setStderr({ batched: stderr });
  return withFastUnpack(pyodide);
}
