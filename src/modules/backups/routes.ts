/**
 * The backups admin API, behind the `admin` macro (401 without a token, 403 unless "admin:access"):
 * - `POST /api/admin/backups`: a consistent online copy into `$DATA_DIR/backups/manual-<time>.db` (SQLite)
 *   or `.dump` (Postgres, with pg_dump: 501 when it is not installed), made while the server keeps serving.
 *   One at a time per server (409 while one runs).
 * - `GET /api/admin/backups`: the backups there, newest first.
 * Backups are not downloadable over HTTP: they hold password hashes and sessions; fetch them from the host.
 */
import { Elysia } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { security } from "../../http/docs.ts";
import { errorDoc } from "../../http/model.ts";
import { BackupEnvelope, BackupList } from "./model.ts";
import { createBackup, MAX_MANUAL_BACKUPS } from "./run.ts";
import { backupsDir, listBackups } from "./service.ts";

export const backupsRoutes = (ctx: AppContext) =>
  new Elysia({ name: "quire/backups", tags: ["Admin"] })
    .use(authPlugin(ctx))
    .post(
      "/api/admin/backups",
      async ({ viewer, set }) => {
        const backup = await createBackup(ctx, "manual", { userId: viewer.id });
        set.status = 201;
        return { backup };
      },
      {
        admin: true,
        response: {
          201: BackupEnvelope,
          409: errorDoc(
            "Another backup is running, or the cap of manual backups is reached (they are never pruned)",
            { backup: ["another backup is running; try again shortly"] },
            {
              backup: [
                `${MAX_MANUAL_BACKUPS} manual backups are kept already: delete old ones from DATA_DIR/backups`,
              ],
            },
          ),
          501: errorDoc(
            "Postgres only: pg_dump is not installed on the server's host, or is older than the server",
            {
              backup: [
                "pg_dump was not found on PATH: install the PostgreSQL client tools (Debian: apt-get install postgresql-client), or run pg_dump --format=custom --file='manual.dump' 'postgres://quire@db:5432/quire'",
              ],
            },
          ),
        },
        detail: {
          summary: "Back up the database now",
          description: `Writes a consistent copy to \`$DATA_DIR/backups/manual-<UTC time>.db\` (SQLite \`VACUUM INTO\`) or \`.dump\` (Postgres: \`pg_dump --format=custom\`, which must be installed on the server's host) while the server keeps serving, and returns its name and size. One at a time; at most ${MAX_MANUAL_BACKUPS} manual backups are kept (delete old ones from the host). Not downloadable over HTTP: restore with \`quire restore <file>\` with the server stopped. Audited.`,
          security: security.admin,
        },
      },
    )
    .get(
      "/api/admin/backups",
      () => {
        const backups = listBackups(backupsDir(ctx));
        return { backups, backupsCount: backups.length };
      },
      {
        admin: true,
        response: { 200: BackupList },
        detail: {
          summary: "List backups",
          description:
            "The backups the server made in `$DATA_DIR/backups` (manual and scheduled), newest first. Other files there are left out.",
          security: security.admin,
        },
      },
    );
