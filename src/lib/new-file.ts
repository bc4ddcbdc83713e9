/**
 * Write a file that must not exist yet, so that it appears complete or not at all: the content is written to
 * a temporary name beside it, fsynced and made owner-only (backups hold password hashes and session data),
 * then hard-linked to the final name, which fails if that name exists, so an existing file is never
 * overwritten, not even one that appeared meanwhile. The directory is fsynced last.
 */
import { chmodSync, existsSync, linkSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fsyncPath } from "./fsync.ts";

/**
 * Run `write(temp)` to produce the content, then put it in place as `file`. Throws `exists()` if `file`
 * exists (before or after writing). Returns the file's size in bytes.
 */
export async function writeNewFile(
  file: string,
  write: (temp: string) => Promise<void> | void,
  exists: () => Error,
): Promise<number> {
  if (existsSync(file)) throw exists();
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.partial`);
  try {
    await write(temp);
    chmodSync(temp, 0o600);
    fsyncPath(temp, "r+");
    try {
      linkSync(temp, file); // atomic, and fails with EEXIST instead of replacing
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") throw exists();
      // Filesystems without hard links: rename, having checked the name is free.
      if (existsSync(file)) throw exists();
      renameSync(temp, file);
    }
    fsyncPath(dirname(file));
    return statSync(file).size;
  } finally {
    rmSync(temp, { force: true });
  }
}
