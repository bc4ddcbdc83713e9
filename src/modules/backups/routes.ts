/**
 * The backups admin API, behind the `admin` macro (401 without a token, 403 unless "admin:access"):
 * - `POST /api/admin/backups`: a consistent online copy into `$DATA_DIR/backups/manual-<time>.db`, made
 *   while the server keeps serving. One at a time per server (409 while one runs).
 * - `GET /api/admin/backups`: the backups there, newest first.
 * Backups are not downloadable over HTTP: they hold password hashes and sessions; fetch them from the host.
 */
import { Elysia } from "elysia";
import type { AppContext } from "../../context.ts";
import { authPlugin } from "../../http/auth.ts";
import { errors } from "../shared/model.ts";
import { BackupEnvelope, BackupList } from "./model.ts";
import { createBackup } from "./run.ts";
import { backupsDir, listBackups } from "./service.ts";

const token = [{ Token: [] }];

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
        response: { 201: BackupEnvelope, ...errors(401, 403, 409, 429) },
        detail: {
          summary: "Back up the database now",
          description:
            "Writes a consistent copy (SQLite `VACUUM INTO`) to `$DATA_DIR/backups/manual-<UTC time>.db` while the server keeps serving, and returns its name and size. 409 while another backup runs. Restore with `quire restore <file>` with the server stopped.",
          security: token,
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
        response: { 200: BackupList, ...errors(401, 403, 429) },
        detail: {
          summary: "List backups",
          description: "Backups in `$DATA_DIR/backups`, newest first.",
          security: token,
        },
      },
    );
