/**
 * Backups made by the server: on demand (admin API) or on a schedule (BACKUP_INTERVAL_MINUTES, a recurring
 * job, so runs never overlap even across restarts), into `$DATA_DIR/backups`. One runs at a time per
 * context; outcomes feed the metrics (quire_backups_total, quire_backup_last_success_timestamp_seconds).
 */
import { join } from "node:path";
import type { AppContext } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { recordAuditNow } from "../audit/service.ts";
import {
  type BackupInfo,
  type BackupKind,
  backupDatabase,
  backupName,
  backupsDir,
  listBackups,
  pruneBackups,
} from "./service.ts";

export const BACKUP_JOB = "backup.scheduled";
/** Manual backups kept at most (they are never pruned automatically). */
export const MAX_MANUAL_BACKUPS = 20;

/** The server's backups in flight: one at a time (a component of the context). */
export class Backups {
  running = false;
}

export async function createBackup(
  ctx: AppContext,
  kind: BackupKind,
  who: { userId?: number } = {},
): Promise<BackupInfo> {
  if (ctx.backups.running)
    throw new AppError(409, { backup: ["another backup is running; try again shortly"] });
  // Manual backups are never pruned (they are the operator's), so their number is capped: repeated calls
  // cannot fill the disk.
  if (
    kind === "manual" &&
    listBackups(backupsDir(ctx)).filter((b) => b.name.startsWith("manual-")).length >= MAX_MANUAL_BACKUPS
  ) {
    throw new AppError(409, {
      backup: [
        `${MAX_MANUAL_BACKUPS} manual backups are kept already: delete old ones from DATA_DIR/backups`,
      ],
    });
  }
  ctx.backups.running = true;
  const { backups, lastBackup } = ctx.metrics;
  const started = performance.now();
  const createdAt = ctx.clock.now();
  const name = backupName(kind, createdAt, ctx.engine.backupExtension);
  try {
    const size = await backupDatabase(ctx, join(backupsDir(ctx), name));
    backups.inc({ outcome: "ok" });
    lastBackup.set(Date.now() / 1000);
    const durationMs = Math.round(performance.now() - started);
    ctx.log.info({ backup: name, size, durationMs, kind, ...who }, "backup written");
    if (kind === "manual") {
      await recordAuditNow(ctx, {
        action: "backup.created",
        actorId: who.userId ?? null,
        targetType: "backup",
        targetId: name,
        detail: { size },
      });
    }
    return { name, size, createdAt: new Date(createdAt).toISOString() };
  } catch (err) {
    backups.inc({ outcome: "failed" });
    if (!(err instanceof AppError)) ctx.log.error({ err, backup: name, kind }, "backup failed");
    throw err;
  } finally {
    ctx.backups.running = false;
  }
}

/**
 * Start `quire_backup_last_success_timestamp_seconds` from the newest backup on disk, not 0: a restart must
 * not trip the backup-staleness alert. Its file's mtime is when the copy was finished (the final name is a
 * hard link made afterwards).
 */
export function restoreBackupMetrics(ctx: AppContext): void {
  const newest = listBackups(backupsDir(ctx))[0];
  ctx.metrics.lastBackup.set(newest ? Date.parse(newest.createdAt) / 1000 : 0);
}

/** Register the scheduled backup (call before the job workers start; `serve` only). */
export function scheduleBackups(ctx: AppContext): void {
  const minutes = ctx.config.BACKUP_INTERVAL_MINUTES;
  if (minutes === 0) return;
  ctx.jobs.every(BACKUP_JOB, minutes * 60_000, async () => {
    await createBackup(ctx, "scheduled");
    const removed = pruneBackups(backupsDir(ctx), ctx.config.BACKUP_KEEP);
    if (removed.length > 0)
      ctx.log.info({ removed, keep: ctx.config.BACKUP_KEEP }, "old scheduled backups deleted");
  });
}
