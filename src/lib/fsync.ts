import { closeSync, fsyncSync, openSync } from "node:fs";

/**
 * fsync a file (opened "r+") or a directory (opened "r", after a rename into it), so that a backup or a
 * restored database that was reported done survives a power loss.
 */
export function fsyncPath(path: string, flags: "r" | "r+" = "r"): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
